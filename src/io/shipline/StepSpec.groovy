package io.shipline

import com.cloudbees.groovy.cps.NonCPS
import groovy.json.JsonSlurperClassic

/**
 * One step's parameter spec: its entry of the library resource io/shipline/steps.json, generated from the
 * CLI's parameter spec (python -m shipline.jenkins.spec). Checks a step's arguments (unknown names,
 * required ones, types, choices, limits) and turns them into the CLI's params (snake_case keys).
 * Holds only parsed JSON (JsonSlurperClassic: HashMap and ArrayList), so it is Serializable.
 */
class StepSpec implements Serializable {
    private static final long serialVersionUID = 1L
    static final String RESOURCE = 'io/shipline/steps.json'

    /** The step's name, e.g. shiplinePublish. */
    final String step
    /** Its steps.json entry: command, label, script, mutates, summary, params. */
    final Map entry

    StepSpec(String step, Map entry) {
        this.step = step
        this.entry = entry
    }

    /** The spec of `step`, read with libraryResource through `steps` (the calling vars script). */
    static StepSpec load(Object steps, String step) {
        return parse(steps.libraryResource(RESOURCE) as String, step)
    }

    /**
     * The spec of `step`, once `args` fit it: otherwise the build fails (the `error` step of `steps`, the
     * calling vars script) with every problem, before the step does anything.
     */
    static StepSpec checked(Object steps, String step, Map args) {
        StepSpec spec = load(steps, step)
        List<String> problems = spec.problems(args)
        if (problems) {
            steps.error("${step}: ${problems.join('; ')}")
        }
        return spec
    }

    /** The spec of `step` in the text of steps.json. */
    @NonCPS
    static StepSpec parse(String json, String step) {
        Map entry = new JsonSlurperClassic().parseText(json).steps[step] as Map
        if (entry == null) {
            throw new IllegalArgumentException("${RESOURCE} has no step ${step}")
        }
        return new StepSpec(step, entry)
    }

    // Getters are @NonCPS: CliCall's constructor reads them, and a constructor cannot call CPS code.

    /** The sh label of a CLI step (null for library steps). */
    @NonCPS
    String getLabel() {
        return entry.label
    }

    /** The constant sh script of a CLI step (null for library steps). */
    @NonCPS
    String getScript() {
        return entry.script
    }

    /** Every problem with `args`, each naming its parameter; empty when `args` are valid. */
    @NonCPS
    List<String> problems(Map args) {
        List<Map> params = entry.params as List<Map>
        List<String> found = nameProblems(args)
        Map named = byName(args)
        named.keySet().findAll { key -> key instanceof String && !params.any { it.name == key } }.each { key ->
            found << unknown(key as String)
        }
        params.each { Map param ->
            Object value = named[param.name]
            if (value == null) {
                if (param.required) {
                    found << "'${param.name}' is required".toString()
                }
            } else if (param.required && value instanceof CharSequence && !value.toString().trim()) {
                found << "'${param.name}' is required (got an empty String)".toString()
            } else {
                String problem = typeProblem(param, value) ?: rangeProblem(param, value)
                if (problem) {
                    found << "'${param.name}' ${problem}".toString()
                }
            }
        }
        return found
    }

    /** `args` with the documented defaults applied, by Groovy (camelCase) name. */
    @NonCPS
    Map withDefaults(Map args) {
        Map named = byName(args)
        Map merged = [:]
        (entry.params as List<Map>).each { Map param ->
            merged[param.name] = named[param.name] != null ? named[param.name] : plain(param.default)
        }
        return merged
    }

    /** The CLI's params: snake_case keys, plain String/List/Map values; unset optional ones left out. */
    @NonCPS
    Map cliParams(Map args) {
        Map merged = withDefaults(args)
        Map params = [:]
        (entry.params as List<Map>).each { Map param ->
            if (merged[param.name] != null) {
                params[param.key] = plain(merged[param.name])
            }
        }
        return params
    }

    /** `args` by String name: a GString name is the same name (its hash differs, so a lookup would miss it). */
    @NonCPS
    private static Map byName(Map args) {
        Map named = [:]
        args.each { key, value -> named[key instanceof CharSequence ? key.toString() : key] = value }
        return named
    }

    /** Names that are not Strings, and names given twice (once as a String, once as a GString). */
    @NonCPS
    private static List<String> nameProblems(Map args) {
        List<String> found = []
        args.keySet().findAll { !(it instanceof CharSequence) }.each { key ->
            found << "parameter names must be Strings (got ${key?.getClass()?.simpleName} ${key})".toString()
        }
        args.keySet().findAll { it instanceof CharSequence }.groupBy { it.toString() }.each { name, keys ->
            if (keys.size() > 1) {
                found << "parameter '${name}' is given twice".toString()
            }
        }
        return found
    }

    @NonCPS
    private String unknown(String key) {
        List<String> names = (entry.params as List<Map>).collect { it.name as String }
        String hint = names.find { normalized(it) == normalized(key) }
        String valid = "valid: ${names.join(', ')}"
        return "unknown parameter '${key}' (${hint ? "did you mean '${hint}'? " : ''}${valid})".toString()
    }

    @NonCPS
    private static String normalized(String name) {
        return name.toLowerCase().replaceAll(/[_-]/, '')
    }

    @NonCPS
    private static String typeProblem(Map param, Object value) {
        boolean ok
        switch (param.type) {
            case 'str': ok = value instanceof CharSequence; break
            case 'int': ok = value instanceof Integer || value instanceof Long; break
            case 'float': ok = value instanceof Number && !notFinite(value as Number); break
            case 'bool': ok = value instanceof Boolean; break
            case 'list': ok = value instanceof List && value.every { it instanceof CharSequence }; break
            case 'map': ok = value instanceof Map && value.every { k, v -> v instanceof CharSequence }; break
            default: throw new IllegalStateException("${RESOURCE}: unknown type ${param.type}")
        }
        if (ok) {
            return null
        }
        if (value instanceof Number && notFinite(value as Number)) {
            return "must be a finite ${param.type_name} (got ${value})"
        }
        String article = param.type_name ==~ /[AEIOU].*/ ? 'an' : 'a'
        return "must be ${article} ${param.type_name} (got ${value.getClass().simpleName})"
    }

    /** NaN, an infinity, or beyond a double's range (a huge BigInteger): no number the CLI can use. */
    @NonCPS
    private static boolean notFinite(Number value) {
        double asDouble = value.doubleValue()
        return Double.isNaN(asDouble) || Double.isInfinite(asDouble)
    }

    @NonCPS
    private static String rangeProblem(Map param, Object value) {
        if (param.choices && !(value.toString() in param.choices)) {
            return "must be one of ${param.choices.join(', ')} (got '${value}')"
        }
        if (param.minimum != null && value < param.minimum) {
            return "must be at least ${param.minimum} (got ${value})"
        }
        if (param.maximum != null && value > param.maximum) {
            return "must be at most ${param.maximum} (got ${value})"
        }
        return null
    }

    /** A value as plain JSON data: Strings (not GStrings), fresh Lists and Maps. */
    @NonCPS
    private static Object plain(Object value) {
        if (value instanceof CharSequence) {
            return value.toString()
        }
        if (value instanceof List) {
            return value.collect { plain(it) }
        }
        if (value instanceof Map) {
            Map copy = [:]
            value.each { k, v -> copy[k.toString()] = plain(v) }
            return copy
        }
        return value
    }
}
