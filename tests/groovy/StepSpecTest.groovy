import io.shipline.StepSpec
import org.junit.Test

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertTrue
import static org.junit.Assert.fail

/** StepSpec: argument checks (every type, choices, limits, unknown names) and the CLI params it builds. */
class StepSpecTest {
    static Map param(Map fields) {
        return [default: null, required: false, choices: [], minimum: null, maximum: null, help: 'h'] + fields
    }

    /** One parameter of each type, as steps.json spells them. */
    static final StepSpec SPEC = new StepSpec('shiplineExample', [
            command: 'example', label: 'shipline example', mutates: false, summary: 's',
            script: '"$SHIPLINE_BIN" example --params-file "$SHIPLINE_PARAMS" --result-file "$SHIPLINE_RESULT"',
            params: [
                    param(name: 'name', key: 'name', type: 'str', type_name: 'String', required: true),
                    param(name: 'percent', key: 'percent', type: 'int', type_name: 'Integer', default: 50,
                            minimum: 0, maximum: 100),
                    param(name: 'strategy', key: 'strategy', type: 'str', type_name: 'String', default: 'rolling',
                            choices: ['rolling', 'doubling']),
                    param(name: 'timeScale', key: 'time_scale', type: 'float', type_name: 'Number', default: 0.1,
                            minimum: 0.01, maximum: 1.0),
                    param(name: 'allowDirty', key: 'allow_dirty', type: 'bool', type_name: 'Boolean', default: false),
                    param(name: 'tags', key: 'tags', type: 'list', type_name: 'List of strings', default: []),
                    param(name: 'env', key: 'env', type: 'map', type_name: 'Map of string to string', default: [:]),
                    param(name: 'note', key: 'note', type: 'str', type_name: 'String'),
            ]])

    @Test
    void validArgumentsHaveNoProblems() {
        String who = 'web'
        assertEquals([], SPEC.problems([name: "service-${who}", percent: 10L, strategy: 'doubling', timeScale: 0.5,
                                        allowDirty: true, tags: ["v${1}", 'b'], env: [A: "${who}"], note: null]))
    }

    @Test
    void everyProblemIsReportedAtOnceInSpecOrderAfterUnknownNames() {
        assertEquals([
                "unknown parameter 'colour' (valid: name, percent, strategy, timeScale, allowDirty, tags, env, note)",
                "'name' is required",
                "'percent' must be at most 100 (got 101)",
                "'strategy' must be one of rolling, doubling (got 'canary')",
        ], SPEC.problems([colour: 'red', percent: 101, strategy: 'canary']))
    }

    @Test
    void anUnknownNameSpelledTheCliWayGetsTheGroovyName() {
        assertEquals(["unknown parameter 'allow_dirty' (did you mean 'allowDirty'? valid: name, percent, strategy, " +
                              'timeScale, allowDirty, tags, env, note)'],
                SPEC.problems([name: 'x', allow_dirty: true]))
    }

    @Test
    void eachTypeIsChecked() {
        Map expected = [
                name      : [42, "'name' must be a String (got Integer)"],
                percent   : ['50', "'percent' must be an Integer (got String)"],
                timeScale : ['0.5', "'timeScale' must be a Number (got String)"],
                allowDirty: ['true', "'allowDirty' must be a Boolean (got String)"],
                tags      : ['a', "'tags' must be a List of strings (got String)"],
                env       : [[A: 1], "'env' must be a Map of string to string (got LinkedHashMap)"],
        ]
        expected.each { key, valueAndProblem ->
            Map args = [name: 'x'] + [(key): valueAndProblem[0]]
            assertEquals(key, [valueAndProblem[1]], SPEC.problems(args))
        }
    }

    @Test
    void aBooleanIsNotAnIntegerNorAListOfStringsAListOfNumbers() {
        assertEquals(["'percent' must be an Integer (got Boolean)"], SPEC.problems([name: 'x', percent: true]))
        assertEquals(["'tags' must be a List of strings (got ArrayList)"], SPEC.problems([name: 'x', tags: [1]]))
    }

    @Test
    void minimumsAndMaximumsAreInclusive() {
        assertEquals([], SPEC.problems([name: 'x', percent: 0, timeScale: 1.0]))
        assertEquals(["'percent' must be at least 0 (got -1)", "'timeScale' must be at least 0.01 (got 0)"],
                SPEC.problems([name: 'x', percent: -1, timeScale: 0]))
        assertEquals(["'timeScale' must be at most 1.0 (got 1.5)"], SPEC.problems([name: 'x', timeScale: 1.5]))
    }

    @Test
    void nullMeansNotSet() {
        assertEquals(["'name' is required"], SPEC.problems([name: null, percent: null]))
        assertEquals(50, SPEC.withDefaults([percent: null]).percent)
    }

    @Test
    void withDefaultsGivesEveryParameterByGroovyName() {
        assertEquals([name: 'x', percent: 50, strategy: 'rolling', timeScale: 0.1, allowDirty: false, tags: [],
                      env: [:], note: null], SPEC.withDefaults([name: 'x']))
    }

    @Test
    void defaultsAreFreshCopies() {
        SPEC.withDefaults([name: 'x']).tags << 'changed'
        assertEquals([], SPEC.withDefaults([name: 'x']).tags)
    }

    @Test
    void cliParamsHaveSnakeCaseKeysPlainValuesAndNoUnsetOptionals() {
        String who = 'web'
        Map params = SPEC.cliParams([name: "svc-${who}", tags: ["t-${who}"], env: [A: "${who}"], timeScale: 0.5])
        assertEquals([name: 'svc-web', percent: 50, strategy: 'rolling', time_scale: 0.5, allow_dirty: false,
                      tags: ['t-web'], env: [A: 'web']], params)
        assertTrue(params.name instanceof String && params.tags[0] instanceof String && params.env.A instanceof String)
    }

    @Test
    void parseReadsEachStepOfStepsJson() {
        String json = new File(PipelineHarness.ROOT, 'resources/io/shipline/steps.json').text
        PipelineHarness.specs().each { String name, Map entry ->
            StepSpec spec = StepSpec.parse(json, name)
            assertEquals([name, entry.script, entry.label], [spec.step, spec.script, spec.label])
        }
    }

    @Test
    void parseRejectsAStepThatIsNotInStepsJson() {
        try {
            StepSpec.parse('{"steps": {}}', 'shiplineNope')
            fail('an unknown step must not parse')
        } catch (IllegalArgumentException expected) {
            assertEquals('io/shipline/steps.json has no step shiplineNope', expected.message)
        }
    }
}
