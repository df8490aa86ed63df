import org.junit.Assume
import org.junit.Test
import org.junit.runner.RunWith
import org.junit.runners.Parameterized

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertTrue
import static org.junit.Assert.fail

/**
 * The contract of every step that runs a CLI command: argument errors before anything runs, defaults in the
 * params file, one constant sh, the result as a plain Map, the CLI's failure as the build's error.
 */
@RunWith(Parameterized)
class CliStepsTest {
    static final String DIGEST = 'sha256:' + 'ab' * 32
    static final String IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@${DIGEST}"
    static final String TOKEN = 'rolling/ecs-svc/1234567890/web:9'

    /** Each CLI step: its command, the smallest valid arguments, and the params file they give. */
    static final Map<String, Map> STEPS = [
            shiplineConfigCheck: [command: 'config check', args: [:],
                                  params : [config: 'shipline.yaml']],
            shiplinePublish    : [command: 'publish', args: [:],
                                  params : [config: 'shipline.yaml', allow_dirty: false, tags: [], fix_repo: false,
                                            dry_run: false]],
            shiplineScanGate   : [command: 'scan-gate', args: [image: DIGEST],
                                  params : [config: 'shipline.yaml', image: DIGEST]],
            shiplinePromote    : [command: 'promote', args: [digest: DIGEST],
                                  params : [config: 'shipline.yaml', digest: DIGEST, tags: [], dry_run: false]],
            shiplineRender     : [command: 'render', args: [environment: 'staging', image: IMAGE],
                                  params : [config: 'shipline.yaml', environment: 'staging', image: IMAGE]],
            shiplineRegister   : [command: 'register', args: [environment: 'staging'],
                                  params : [config: 'shipline.yaml', environment: 'staging', dry_run: false]],
            shiplineFollow     : [command: 'follow', args: [environment: 'staging', token: TOKEN],
                                  params : [config: 'shipline.yaml', environment: 'staging', token: TOKEN,
                                            dry_run: false]],
            shiplineRollback   : [command: 'rollback', args: [environment: 'production'],
                                  params : [config: 'shipline.yaml', environment: 'production', dry_run: false]],
            shiplineRunTask    : [command: 'run-task', args: [environment: 'staging'],
                                  params : [config: 'shipline.yaml', environment: 'staging', command: [],
                                            timeout: 600.0]],
            shiplineStatus     : [command: 'status', args: [environment: 'staging'],
                                  params : [config: 'shipline.yaml', environment: 'staging']],
            shiplineFreeze     : [command: 'freeze', args: [environment: 'production', reason: 'incident 4711'],
                                  params : [config: 'shipline.yaml', environment: 'production',
                                            reason: 'incident 4711', dry_run: false]],
            shiplineUnfreeze   : [command: 'unfreeze', args: [environment: 'production'],
                                  params : [config: 'shipline.yaml', environment: 'production', dry_run: false]],
            shiplinePipelinePlan: [command: 'pipeline plan', args: [:],
                                   params : [config: 'shipline.yaml']],
    ]

    @Parameterized.Parameters(name = '{0}')
    static Collection<Object[]> steps() {
        return STEPS.keySet().collect { [it] as Object[] }
    }

    final String step
    final Map expected
    final PipelineHarness harness = new PipelineHarness()

    CliStepsTest(String step) {
        this.step = step
        this.expected = STEPS[step]
    }

    Object run(Map args, Map document = PipelineHarness.document('x', 0, [:])) {
        harness.agentWithCli { document }
        return harness.inNode { harness.call(step, args) }
    }

    String failure(Closure body) {
        try {
            body()
        } catch (StepError expected) {
            return expected.message
        }
        fail("${step} must fail the build")
    }

    /** The sh calls that ran the CLI (not the install script). */
    List<Map> cliShCalls() {
        return harness.shCalls().findAll { it.label != 'shipline: install the CLI' }
    }

    Map paramsFile() {
        List<Map> files = harness.cliParamsFiles()
        assertEquals(1, files.size())
        return files[0]
    }

    @Test
    void theParamsFileHasTheArgumentsAndEveryDefault() {
        run(expected.args)
        assertEquals(expected.params, paramsFile())
    }

    @Test
    void oneConstantShRunsTheCommandWithOnlyShiplineVariables() {
        run(expected.args)
        Map sh = cliShCalls().with { assertEquals(1, size()); it[0] }
        assertEquals('"$SHIPLINE_BIN" ' + expected.command +
                ' --params-file "$SHIPLINE_PARAMS" --result-file "$SHIPLINE_RESULT"', sh.script)
        assertEquals('shipline ' + expected.command, sh.label)
        assertEquals([true, null], [sh.returnStatus, sh.returnStdout])
        assertTrue((sh.script =~ /\$\{?(\w+)/).collect { it[1] }.every { it.startsWith('SHIPLINE_') })
    }

    @Test
    void theShGetsTheExecutableAndTheTwoFilesThroughItsEnvironment() {
        List<String> seen = []
        harness.agentWithCli { call ->
            seen << "${call.env.SHIPLINE_BIN}|${call.env.SHIPLINE_PARAMS}|${call.env.SHIPLINE_RESULT}".toString()
            PipelineHarness.document('x', 0, [:])
        }
        harness.inNode { harness.call(step, expected.args) }
        String paramsPath = harness.callsTo('writeFile')[0][0].file
        assertEquals(1, harness.callsTo('writeFile').size())
        String resultPath = paramsPath.replace('-params.json', '-result.json')
        assertEquals(["${PipelineHarness.CLI}|${paramsPath}|${resultPath}".toString()], seen)
        assertTrue(paramsPath ==~ /${PipelineHarness.TMP}\/${step}-[0-9a-f]{8}-params\.json/)
    }

    @Test
    void theResultComesBackAsAPlainMap() {
        Map result = [image: IMAGE, skipped: null, tags: ['abc'], details: [digest: DIGEST]]
        Object returned = run(expected.args, PipelineHarness.document(expected.command, 0, result))
        assertEquals(result, returned)
        assertEquals([LinkedHashMap, LinkedHashMap], [returned.getClass(), returned.details.getClass()])
    }

    @Test
    void aFailingCliFailsTheBuildWithItsMessageAndExitCode() {
        String message = 'AWS endpoint unreachable: set AWS_REGION'
        Map document = PipelineHarness.document(expected.command, 3, null, message)
        assertEquals("${step}: AWS endpoint unreachable: set AWS_REGION (exit 3)".toString(),
                failure { run(expected.args, document) })
    }

    @Test
    void aCliThatWroteNoResultFailsTheBuildWithItsExitCode() {
        String message = "${step}: the shipline CLI wrote no result document; see its output above (exit 127)"
        assertEquals(message, failure { run(expected.args, null) })
    }

    @Test
    void anUnknownNameFailsBeforeAnythingRunsAndListsTheValidNames() {
        List<String> valid = PipelineHarness.spec(step).params*.name
        String message = failure { harness.call(step, expected.args + [imageTag: 'latest']) }
        assertEquals("${step}: unknown parameter 'imageTag' (valid: ${valid.join(', ')})".toString(), message)
        assertEquals([step, 'libraryResource', 'error'], harness.calls*.name)
    }

    @Test
    void missingRequiredArgumentsFailBeforeAnythingRuns() {
        Assume.assumeTrue(expected.args as boolean)
        String message = failure { harness.call(step, [:]) }
        assertEquals("${step}: ".toString() + expected.args.keySet().collect { "'${it}' is required" }.join('; '),
                message)
        assertEquals([step, 'libraryResource', 'error'], harness.calls*.name)
    }

    @Test
    void theCliIsInstalledBeforeItRuns() {
        run(expected.args)
        List<String> order = harness.calls*.name.findAll { it in ['shiplineInstall', 'writeFile', 'sh'] }
        assertEquals(['shiplineInstall', 'sh', 'writeFile', 'sh'], order)
    }
}
