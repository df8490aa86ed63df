import org.junit.Test

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertTrue
import static org.junit.Assert.fail

/** Typed arguments of the real steps: choices, limits, booleans, lists, GStrings, all problems at once. */
class StepArgumentsTest {
    static final String DIGEST = 'sha256:' + 'cd' * 32

    final PipelineHarness harness = new PipelineHarness()

    String failure(String step, Map args) {
        harness.calls.clear()
        try {
            harness.call(step, args)
        } catch (StepError expected) {
            assertEquals([step, 'libraryResource', 'error'], harness.calls*.name)
            return expected.message
        }
        fail("${step}(${args}) must fail the build")
    }

    Map paramsFor(String step, Map args) {
        harness.agentWithCli { PipelineHarness.document('x', 0, [:]) }
        harness.inNode { harness.call(step, args) }
        return harness.cliParamsFiles()[0]
    }

    @Test
    void severityMustBeOneOfItsChoices() {
        assertEquals("shiplineScanGate: 'severity' must be one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL " +
                "(got 'SEVERE')", failure('shiplineScanGate', [image: DIGEST, severity: 'SEVERE']))
    }

    @Test
    void timeoutMustBeANumberOfAtLeastOneSecond() {
        assertEquals("shiplineScanGate: 'timeout' must be at least 1 (got 0)",
                failure('shiplineScanGate', [image: DIGEST, timeout: 0]))
        assertEquals("shiplineScanGate: 'timeout' must be a Number (got String)",
                failure('shiplineScanGate', [image: DIGEST, timeout: '30']))
    }

    @Test
    void validChoicesAndNumbersReachTheCli() {
        assertEquals([config: 'shipline.yaml', image: DIGEST, severity: 'HIGH', timeout: 2.5],
                paramsFor('shiplineScanGate', [image: DIGEST, severity: 'HIGH', timeout: 2.5]))
    }

    @Test
    void booleansAndListsAreChecked() {
        assertEquals("shiplinePublish: 'allowDirty' must be a Boolean (got String); " +
                "'tags' must be a List of strings (got String)",
                failure('shiplinePublish', [allowDirty: 'yes', tags: 'v1']))
    }

    @Test
    void gStringsAreStringsAndArriveAsPlainText() {
        String environment = 'staging'
        assertEquals([config: 'shipline.yaml', environment: 'staging', dry_run: true, file: '.shipline/td.json'],
                paramsFor('shiplineRegister', [environment: "${environment}", dryRun: true,
                                               file: ".shipline/td.json"]))
    }

    @Test
    void everyProblemIsInTheOneError() {
        assertEquals("shiplineRender: unknown parameter 'env' (valid: config, environment, service, image, output); " +
                "'environment' is required; 'image' must be a String (got Integer)",
                failure('shiplineRender', [env: 'x', image: 7]))
    }

    @Test
    void gStringNamesAreNamesLikeStrings() {
        String option = 'container'
        assertEquals([config: 'shipline.yaml', environment: 'staging', command: [], container: 'web', timeout: 30],
                paramsFor('shiplineRunTask', [("${'environment'}"): 'staging', ("${option}"): 'web', timeout: 30]))
    }

    @Test
    void aGStringNameOfTheDeployStepReachesTheCliAndTheBuildDescription() {
        harness.agentWithCli { PipelineHarness.document('x', 0, InjectionTest.ANSWER) }
        harness.inNode { harness.call('shiplineDeploy', [("${'environment'}"): 'production']) }
        assertEquals('production', harness.cliParamsFiles()[0].environment)
        assertTrue(harness.currentBuild.description.startsWith('production: '))
    }

    @Test
    void aNameGivenTwiceOrNotAStringIsRefusedByName() {
        assertEquals("shiplineStatus: parameter 'environment' is given twice",
                failure('shiplineStatus', [("${'environment'}"): 'a', environment: 'b']))
        assertEquals("shiplineStatus: parameter names must be Strings (got Integer 7)",
                failure('shiplineStatus', [environment: 'a', (7): 'b']))
    }

    @Test
    void notANumberAndInfinityAreRefusedByName() {
        [Double.NaN, Double.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY].each { Number value ->
            assertEquals("shiplineScanGate: 'timeout' must be a finite Number (got ${value})".toString(),
                    failure('shiplineScanGate', [image: DIGEST, timeout: value]))
        }
        assertEquals([config: 'shipline.yaml', image: DIGEST, timeout: 1.5],
                paramsFor('shiplineScanGate', [image: DIGEST, timeout: 1.5f]))
    }
}
