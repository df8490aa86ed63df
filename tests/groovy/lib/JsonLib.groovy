import groovy.json.JsonOutput
import groovy.json.JsonSlurperClassic

/**
 * What json-lib (net.sf.json, behind Jenkins' readJSON and writeJSON) does to data, for PipelineHarness:
 * - a String that looks like JSON ('null', '[...]', '{...}': JSONUtils.mayBeJSON) is parsed into that JSON;
 * - JSON null is JSONNull, an object that is not null;
 * - a JSON object is a JSONObject, not a LinkedHashMap.
 * readJSON(returnPojo: true) and writeFile(text: JsonOutput.toJson(...)) avoid all three.
 */
class JsonLib {
    static final Object NULL = new JsonNull()

    /** `value` as json-lib holds it (JSONObject.fromObject / JSONSerializer.toJSON). */
    static Object fromObject(Object value) {
        if (value == null) {
            return NULL
        }
        if (value instanceof CharSequence) {
            return fromString(value.toString())
        }
        if (value instanceof Map) {
            JsonObject object = new JsonObject()
            value.each { key, item -> object[key.toString()] = fromObject(item) }
            return object
        }
        if (value instanceof List) {
            return value.collect { fromObject(it) }
        }
        return value
    }

    /** What readJSON(returnPojo: true) returns for parsed JSON: LinkedHashMap, ArrayList and null. */
    static Object pojo(Object value) {
        if (value instanceof Map) {
            return value.collectEntries(new LinkedHashMap()) { key, item -> [key, pojo(item)] }
        }
        if (value instanceof List) {
            return value.collect { pojo(it) }
        }
        return value
    }

    /** The JSON text json-lib writes for `value`. */
    static String text(Object value) {
        return JsonOutput.toJson(plain(fromObject(value)))
    }

    private static Object fromString(String text) {
        if (text == 'null') {
            return NULL
        }
        boolean mayBeJson = (text.startsWith('[') && text.endsWith(']')) || (text.startsWith('{') && text.endsWith('}'))
        if (mayBeJson) {
            try {
                return fromObject(new JsonSlurperClassic().parseText(text))
            } catch (Exception ignored) {
                return text
            }
        }
        return text
    }

    private static Object plain(Object value) {
        if (value.is(NULL)) {
            return null
        }
        if (value instanceof Map) {
            return value.collectEntries { key, item -> [key, plain(item)] }
        }
        if (value instanceof List) {
            return value.collect { plain(it) }
        }
        return value
    }

    /** json-lib's JSONObject: a Map, but not a LinkedHashMap. */
    static class JsonObject extends TreeMap<String, Object> {
    }

    /** json-lib's JSONNull. */
    static class JsonNull {
        String toString() {
            return 'null'
        }
    }
}
