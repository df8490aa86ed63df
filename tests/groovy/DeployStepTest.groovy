import org.junit.Test

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertTrue

/**
 * shiplineDeploy runs one CLI call (the deploy lease guards the service; no second call for a lock name),
 * archives the record and describes the build; a paused deploy returns where it paused instead of failing.
 */
class DeployStepTest {
    static PipelineHarness deployed(Map args, int exitCode = 0, PipelineHarness h = new PipelineHarness()) {
        h.agentWithCli { PipelineHarness.ShCall call ->
            PipelineHarness.document('deploy', exitCode, exitCode ? null : [
                    decision: 'succeeded', record: "${PipelineHarness.WORKSPACE}/.shipline/records/d.json".toString(),
                    task_definition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:9'],
                    exitCode ? 'deploy failed: the service is back on web:8' : null)
        }
        h.inNode { h.call('shiplineDeploy', args) }
        return h
    }

    @Test
    void theDeployIsOneCliCallAndIsRecorded() {
        PipelineHarness h = deployed([environment: 'production', image: 'web@sha256:' + 'a' * 64])
        assertEquals([], h.callsTo('lock'))
        List<String> order = h.calls*.name.findAll { it in ['sh', 'archiveArtifacts'] }
        assertEquals(['sh', 'sh', 'archiveArtifacts'], order)
        assertEquals(['shipline: install the CLI', 'shipline deploy'], h.shCalls()*.label)
        assertEquals('**/.shipline/records/deploy-*.json', (h.callsTo('archiveArtifacts')[0][0] as Map).artifacts)
        assertEquals('production: succeeded web:9', h.currentBuild.description)
        assertEquals([config: 'shipline.yaml', environment: 'production', image: 'web@sha256:' + 'a' * 64,
                      service: [], all: false, parallel: 4, all_or_nothing: false,
                      wait_for_lease: 0.0, allow_older: false, detach: false, follow: false, resume: false,
                      dry_run: false],
                     h.cliParamsFiles()[-1])
    }

    @Test
    void severalServicesAreOneCallAndTheBuildSaysHowManyDeployed() {
        PipelineHarness h = new PipelineHarness()
        h.agentWithCli { PipelineHarness.ShCall call ->
            PipelineHarness.document('deploy', 0, [decision: 'succeeded', reason: '2 services deployed', services: [
                    web: [decision: 'succeeded', exit_code: 0], jobs: [decision: 'succeeded', exit_code: 0]]])
        }
        h.inNode { h.call('shiplineDeploy', [environment: 'production', image: 'web@sha256:' + 'a' * 64, all: true,
                                             allOrNothing: true]) }
        assertEquals(['shipline: install the CLI', 'shipline deploy'], h.shCalls()*.label)
        assertEquals([true, true], [h.cliParamsFiles()[-1].all, h.cliParamsFiles()[-1].all_or_nothing])
        assertEquals('production: succeeded 2 services', h.currentBuild.description)
    }

    @Test
    void aPausedDeployReturnsWhereItPausedAndDoesNotFailTheBuild() {
        PipelineHarness h = new PipelineHarness()
        Map paused = [type: 'Paused', exit_code: 6, point: 'before-traffic', release: 'web@sha256:' + 'a' * 64,
                      message: 'paused at before-traffic, awaiting approval']
        Map returned = null
        h.agentWithCli { PipelineHarness.ShCall call -> PipelineHarness.document('deploy', 6, null, 'x') + [error: paused] }
        h.inNode { returned = h.call('shiplineDeploy', [environment: 'production', image: 'web@sha256:' + 'a' * 64]) }
        assertEquals([paused: true, point: 'before-traffic', release: 'web@sha256:' + 'a' * 64,
                      message: 'paused at before-traffic, awaiting approval'], returned)
        assertEquals('production: paused at before-traffic', h.currentBuild.description)
        assertEquals(1, h.callsTo('archiveArtifacts').size())
    }

    @Test
    void aFailedDeployFailsTheBuildWithTheCliMessageAndStillArchivesTheRecord() {
        PipelineHarness h = new PipelineHarness()
        try {
            deployed([environment: 'production'], 1, h)
            assert false: 'must fail'
        } catch (StepError expected) {
            assertTrue(expected.message.contains('the service is back on web:8 (exit 1)'))
        }
        assertEquals(1, h.callsTo('archiveArtifacts').size())
        assertEquals('production: deploy failed', h.currentBuild.description)
    }
}
