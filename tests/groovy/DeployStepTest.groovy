import org.junit.Test

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertTrue

/** shiplineDeploy holds the service's lock around the deploy, archives the record, describes the build. */
class DeployStepTest {
    static PipelineHarness deployed(Map args, int exitCode = 0, PipelineHarness h = new PipelineHarness()) {
        h.agentWithCli { PipelineHarness.ShCall call ->
            call.label == 'shipline config check' ?
                    PipelineHarness.document('config check', 0, [locks: [production: 'shipline/us-east-1/demo/web']]) :
                    PipelineHarness.document('deploy', exitCode, exitCode ? null : [
                            decision: 'succeeded', record: "${PipelineHarness.WORKSPACE}/.shipline/records/d.json".toString(),
                            task_definition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:9'],
                            exitCode ? 'deploy failed: the service is back on web:8' : null)
        }
        h.inNode { h.call('shiplineDeploy', args) }
        return h
    }

    @Test
    void theDeployRunsInsideTheServicesLockAndIsRecorded() {
        PipelineHarness h = deployed([environment: 'production', image: 'web@sha256:' + 'a' * 64])
        assertEquals([[resource: 'shipline/us-east-1/demo/web']], h.callsTo('lock').collect { it[0] })
        List<String> order = h.calls*.name.findAll { it in ['lock', 'sh', 'archiveArtifacts'] }
        // install and config check; inside the lock: install (cached on the agent) and the deploy; then archive
        assertEquals(['sh', 'sh', 'lock', 'sh', 'sh', 'archiveArtifacts'], order)
        assertEquals(['shipline: install the CLI', 'shipline config check', 'shipline: install the CLI',
                      'shipline deploy'], h.shCalls()*.label)
        assertEquals('**/.shipline/records/deploy-*.json', (h.callsTo('archiveArtifacts')[0][0] as Map).artifacts)
        assertEquals('production: succeeded web:9', h.currentBuild.description)
        assertEquals([config: 'shipline.yaml', environment: 'production', image: 'web@sha256:' + 'a' * 64,
                      wait_for_lease: 0.0, detach: false, follow: false, resume: false, dry_run: false],
                     h.cliParamsFiles()[-1])
    }

    @Test
    void anUnknownEnvironmentFailsBeforeAnyDeploy() {
        try {
            deployed([environment: 'qa'])
            assert false: 'must fail'
        } catch (StepError expected) {
            assertTrue(expected.message.contains("no environment 'qa'"))
        }
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
