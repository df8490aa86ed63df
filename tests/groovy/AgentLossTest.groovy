import org.junit.Test

import static org.junit.Assert.assertEquals
import static org.junit.Assert.fail

/**
 * shiplineRetryOnAgentLoss: a lost Spot agent runs the block again on a fresh node, and the CLI call it
 * repeats is the same idempotent call; a failing step is not repeated.
 */
class AgentLossTest {
    final PipelineHarness harness = new PipelineHarness()
    int cliRuns = 0

    /** An agent that is lost during the first CLI call (`lost` times in all), then publishes. */
    void agentLostDuringTheFirstCliCalls(int lost, Closure<RuntimeException> loss) {
        harness.agentWithCli { call ->
            if (++cliRuns <= lost) {
                throw loss()
            }
            PipelineHarness.document('publish', 0, [image: 'web@sha256:1'])
        }
    }

    Object publishOnSpot(Map args = [label: 'spot']) {
        return harness.call('shiplineRetryOnAgentLoss', args, { harness.call('shiplinePublish', [tags: ['v1']]) })
    }

    List<Map> paramsFiles() {
        return harness.cliParamsFiles()
    }

    @Test
    void aLostAgentRunsTheBlockAgainOnAFreshNodeWithTheSameCliCall() {
        agentLostDuringTheFirstCliCalls(1) { new AgentLost('spot-1: instance reclaimed') }
        assertEquals([image: 'web@sha256:1'], publishOnSpot())
        assertEquals([['spot'], ['spot']], harness.callsTo('node').collect { it.dropRight(1) })
        List<Map> cli = harness.shCalls().findAll { it.label == 'shipline publish' }
        assertEquals(2, cli.size())
        assertEquals(cli[0], cli[1])
        assertEquals(2, paramsFiles().size())
        assertEquals(paramsFiles()[0], paramsFiles()[1])
    }

    @Test
    void anAgentLostOnTheFirstShInstallsTheCliAgainOnTheFreshNode() {
        List<String> labels = []
        harness.responder = { call ->
            labels << call.label
            if (labels.size() == 1) {
                throw new AgentLost('spot-1: instance reclaimed during the install')
            }
            if (call.label == 'shipline: install the CLI') {
                return "${PipelineHarness.CLI}\n${PipelineHarness.VERSION}\n".toString()
            }
            harness.files[call.env.SHIPLINE_RESULT] = groovy.json.JsonOutput.toJson(
                    PipelineHarness.document('publish', 0, [image: 'web@sha256:1']))
            return 0
        }
        assertEquals([image: 'web@sha256:1'], publishOnSpot())
        assertEquals(['shipline: install the CLI', 'shipline: install the CLI', 'shipline publish'], labels)
    }

    @Test
    void retryAsksForTheAgentAndNonResumableConditionsTwice() {
        agentLostDuringTheFirstCliCalls(0) { null }
        publishOnSpot()
        Map retry = harness.callsTo('retry')[0][0] as Map
        assertEquals([2, ['agent', 'nonresumable']], [retry.count, retry.conditions*.name])
    }

    @Test
    void aControllerRestartTheBlockCannotResumeFromAlsoRunsItAgain() {
        agentLostDuringTheFirstCliCalls(1) { new NotResumable('the controller restarted during sh') }
        assertEquals([image: 'web@sha256:1'], publishOnSpot())
        assertEquals(2, cliRuns)
    }

    @Test
    void aFailingStepIsNotRunAgain() {
        harness.agentWithCli { call ->
            cliRuns++
            PipelineHarness.document('publish', 1, null, 'push refused: tag exists')
        }
        try {
            publishOnSpot()
            fail('the failure must fail the build')
        } catch (StepError expected) {
            assertEquals('shiplinePublish: push refused: tag exists (exit 1)', expected.message)
        }
        assertEquals(1, cliRuns)
    }

    @Test
    void aSecondLossFailsTheBuild() {
        agentLostDuringTheFirstCliCalls(2) { new AgentLost('spot reclaimed again') }
        try {
            publishOnSpot()
            fail('two losses must fail the build')
        } catch (AgentLost expected) {
            assertEquals(2, cliRuns)
        }
    }

    @Test
    void withoutALabelTheBlockAllocatesItsOwnNode() {
        agentLostDuringTheFirstCliCalls(1) { new AgentLost('lost') }
        Object value = harness.call('shiplineRetryOnAgentLoss', {
            harness.inNode { harness.call('shiplinePublish', [:]) }
        })
        assertEquals([[image: 'web@sha256:1'], [['linux'], ['linux']]],
                [value, harness.callsTo('node').collect { it.dropRight(1) }])
    }

    @Test
    void anUnknownArgumentFailsBeforeAnyNode() {
        try {
            publishOnSpot([lable: 'spot'])
            fail('a typo must fail the build')
        } catch (StepError expected) {
            assertEquals("shiplineRetryOnAgentLoss: unknown parameter 'lable' (valid: label)", expected.message)
            assertEquals(['shiplineRetryOnAgentLoss', 'libraryResource', 'error'], harness.calls*.name)
        }
    }
}
