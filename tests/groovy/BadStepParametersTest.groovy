import org.junit.Test

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertTrue
import static org.junit.Assert.fail

/**
 * Bad step parameters, one row per kind: the step fails the build before any sh runs, and the message names
 * the parameter. The kinds are listed in tests/bad_input_kinds.txt (lines 'groovy KIND'), which the Python
 * bad-input suite counts with its own: a listed kind without a row here, or a row of an unlisted kind, fails.
 */
class BadStepParametersTest {
    static final String DIGEST = 'sha256:' + 'cd' * 32
    static final File KINDS = new File(PipelineHarness.ROOT, 'tests/bad_input_kinds.txt')

    /** [kind, step, arguments, words the message holds (the parameter's name)] */
    static List<List> rows() {
        String environment = 'environment'
        return [
                ['unknown-key', 'shiplineStatus', [environment: 'staging', enviroment: 'x'], "'enviroment'"],
                ['gstring-unknown-key', 'shiplineStatus', [environment: 'staging', ("${'enviro'}nment2"): 'x'],
                 "'environment2'"],
                ['missing-required', 'shiplineRender', [image: DIGEST], "'environment' is required"],
                ['null-for-required', 'shiplineStatus', [environment: null], "'environment' is required"],
                ['empty-string-for-required', 'shiplineRender', [environment: '', image: DIGEST], "'environment'"],
                ['number-for-string', 'shiplineRender', [environment: 'staging', image: 7], "'image'"],
                ['string-for-number', 'shiplineScanGate', [image: DIGEST, timeout: '30'], "'timeout'"],
                ['string-for-boolean', 'shiplinePublish', [dryRun: 'true'], "'dryRun'"],
                ['string-for-list', 'shiplinePublish', [tags: 'v1'], "'tags'"],
                ['list-of-non-strings', 'shiplinePublish', [tags: [1, 2]], "'tags'"],
                ['map-for-list', 'shiplinePromote', [digest: DIGEST, tags: [a: 'b']], "'tags'"],
                ['list-for-scalar', 'shiplineStatus', [environment: ['staging']], "'environment'"],
                ['nested-map-for-scalar', 'shiplineStatus', [environment: [name: 'staging']], "'environment'"],
                ['closure-for-scalar', 'shiplineStatus', [environment: { 'staging' }], "'environment'"],
                ['below-minimum', 'shiplineScanGate', [image: DIGEST, timeout: 0], "'timeout'"],
                ['negative-number', 'shiplineRunTask', [environment: 'staging', timeout: -30], "'timeout'"],
                ['not-a-number', 'shiplineScanGate', [image: DIGEST, timeout: Double.NaN], "'timeout'"],
                ['infinity', 'shiplineScanGate', [image: DIGEST, timeout: Double.POSITIVE_INFINITY], "'timeout'"],
                ['float-infinity', 'shiplineRunTask', [environment: 'staging', timeout: Float.NEGATIVE_INFINITY],
                 "'timeout'"],
                ['number-beyond-double', 'shiplineScanGate', [image: DIGEST, timeout: 10G ** 400], "'timeout'"],
                ['choices-violated', 'shiplineScanGate', [image: DIGEST, severity: 'SEVERE'], "'severity'"],
                ['choices-wrong-case', 'shiplineDeploy', [environment: 'production', strategy: 'Rolling'],
                 "'strategy'"],
                ['gstring-key-twice', 'shiplineStatus', [("${environment}"): 'a', environment: 'b'],
                 "'environment' is given twice"],
                ['non-string-key', 'shiplineStatus', [environment: 'a', (7): 'b'], 'parameter names must be Strings'],
                ['null-key', 'shiplineStatus', [environment: 'a', (null): 'b'], 'parameter names must be Strings'],
                ['library-step-unknown-key', 'shiplineInstall', [pythn: 'python3'], "'pythn'"],
        ]
    }

    /** The kinds tests/bad_input_kinds.txt lists for this suite. */
    static List<String> listedKinds() {
        return KINDS.readLines().findAll { it.startsWith('groovy ') }.collect { it.substring('groovy '.length()).trim() }
    }

    @Test
    void everyRowFailsBeforeAnyShAndNamesTheParameter() {
        rows().each { String kind, String step, Map args, String words ->
            PipelineHarness harness = new PipelineHarness()
            harness.agentWithCli { PipelineHarness.document('x', 0, InjectionTest.ANSWER) }
            try {
                harness.inNode { harness.call(step, args) }
                fail("${kind}: ${step}(${args}) must fail the build")
            } catch (StepError refused) {
                assertTrue("${kind}: '${refused.message}' names ${words}", refused.message.contains(words))
                assertTrue("${kind}: '${refused.message}' names the step", refused.message.startsWith(step + ':'))
            }
            assertEquals("${kind}: sh ran", [], harness.shCalls())
        }
    }

    @Test
    void theKindsAreTheOnesListedAndEachHasARow() {
        List<String> kinds = rows().collect { it[0] as String }
        assertEquals('a kind has two rows', kinds.unique(false), kinds)
        assertEquals(listedKinds().sort(), kinds.sort(false))
    }
}
