import org.junit.Test

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertFalse
import static org.junit.Assert.assertTrue

/** shiplinePipeline executes the plan 'shipline pipeline plan' computes, with stage/parallel/input/lock. */
class PipelineStepTest {
    static final String IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/webapp@sha256:' + 'a' * 64
    static final Map TESTS = [name: 'Test', kind: 'parallel',
                              branches: [[name: 'unit', script: './tests/unit.sh'],
                                         [name: 'security', script: './tests/security.sh']]]
    static final List DEPLOYING = [[name: 'Source', kind: 'source'], [name: 'Build', kind: 'publish'], TESTS,
                                   [name: 'Deploy staging', kind: 'deploy', environment: 'staging',
                                    services: [], locks: ['shipline/us-east-1/demo/webapp'], strategy: 'rolling'],
                                   [name: 'Approve production', kind: 'approval', environment: 'production',
                                    timeout_seconds: 1800.0, approvers: ['release-managers']],
                                   [name: 'Deploy production', kind: 'deploy', environment: 'production',
                                    services: [], locks: ['shipline/us-east-1/demo/webapp-prod'],
                                    strategy: 'doubling']]

    /** A harness whose CLI answers plan, publish and deploy like shipline does. */
    static PipelineHarness harness(List stages, Map env) {
        PipelineHarness harness = new PipelineHarness()
        harness.env.putAll(env)
        harness.responder = { PipelineHarness.ShCall call ->
            if (call.label == 'shipline: install the CLI') {
                return "${PipelineHarness.CLI}\n${PipelineHarness.VERSION}\n".toString()
            }
            if (call.label == 'shipline: team script' || !call.label.startsWith('shipline ')) {
                return 0  // the team's scripts pass
            }
            String command = call.label.replace('shipline ', '')
            Map result = [
                    'pipeline plan': [kind: 'x', deploys: stages.size() > 3, stages: stages],
                    'publish'      : [image: IMAGE, digest: 'sha256:' + 'a' * 64],
                    'deploy'       : [decision: 'succeeded',
                                      record: "${PipelineHarness.WORKSPACE}/.shipline/records/deploy.json".toString(),
                                      task_definition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/webapp:7',
                                      following: 'doubling/ecs-svc/1/webapp:7', follow_after_seconds: 90.0],
                    'follow'       : [decision: 'succeeded',
                                      task_definition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/webapp:7'],
            ][command] as Map
            harness.files[call.env.SHIPLINE_RESULT] = groovy.json.JsonOutput.toJson(
                    PipelineHarness.document(command, 0, result))
            return 0
        }
        return harness
    }

    @Test
    void aPausedDeployIsAskedOutsideAnyNodeInsideThePlansLockThenResumed() {
        PipelineHarness h = harness(DEPLOYING, [BRANCH_NAME: 'main'])
        Closure answers = h.responder
        int production = 0
        h.responder = { PipelineHarness.ShCall call ->
            Map params = call.env.SHIPLINE_PARAMS ? new groovy.json.JsonSlurper().parseText(
                    h.files[call.env.SHIPLINE_PARAMS]) as Map : [:]
            if (call.label == 'shipline deploy' && params.environment == 'production' && production++ == 0) {
                h.files[call.env.SHIPLINE_RESULT] = groovy.json.JsonOutput.toJson(
                        PipelineHarness.document('deploy', 6, null, 'x') + [error: [
                                type: 'Paused', exit_code: 6, point: 'before-known-good', release: IMAGE,
                                message: 'paused at before-known-good, awaiting approval']])
                return 6
            }
            return answers(call)
        }
        h.call('shiplinePipeline', [label: 'spot'])
        List<Map> deploys = h.cliParamsFiles().findAll { it.environment == 'production' }
        assertEquals([false, true], deploys*.resume)
        List<List> inputs = h.callsTo('input')
        assertEquals(2, inputs.size())  // the approval stage, then the pause
        assertTrue((inputs[1][0] as Map).message.contains('paused at before-known-good'))
        List<PipelineHarness.Call> recorded = h.calls.findAll { it.name in ['input', 'lock'] }
        assertTrue(recorded.every { !it.inNode })  // waiting holds no executor
        assertEquals('production: succeeded webapp:7', h.currentBuild.description)
    }

    static List<String> stageNames(PipelineHarness harness) {
        return harness.callsTo('stage').collect { it[0] as String }
    }

    @Test
    void thePrimaryBranchBuildsTestsAndDeploysEachEnvironmentInOrder() {
        PipelineHarness h = harness(DEPLOYING, [BRANCH_NAME: 'main'])
        Map result = h.call('shiplinePipeline', [label: 'spot'])
        assertEquals(['Source', 'Build', 'Test', 'Deploy staging', 'Approve production', 'Deploy production'],
                stageNames(h))
        assertEquals(IMAGE, result.image)
        assertEquals(['shipline/us-east-1/demo/webapp', 'shipline/us-east-1/demo/webapp-prod'],
                h.callsTo('lock').collect { (it[0] as Map).resource })
        Map input = h.callsTo('input')[0][0] as Map
        assertEquals('release-managers', input.submitter)
        assertEquals(1800, (h.callsTo('timeout')[0][0] as Map).time)
        List<Map> deploys = h.cliParamsFiles().findAll { it.environment }
        assertEquals(['staging', 'production'], deploys*.environment)
        assertTrue(deploys.every { it.image == IMAGE })  // the same digest through every environment
        assertEquals(['**/.shipline/records/deploy-*.json'] * 2, h.callsTo('archiveArtifacts').collect { it[0].artifacts })
        assertEquals('production: succeeded webapp:7', h.currentBuild.description)
        assertEquals([branch: 'main', config: 'shipline.yaml'], h.cliParamsFiles()[0])
    }

    @Test
    void severalServicesDeployInOneCallHoldingEveryServicesLock() {
        List stages = DEPLOYING.take(3) + [[name: 'Deploy staging', kind: 'deploy', environment: 'staging',
                                            services: ['web', 'jobs'], strategy: 'rolling',
                                            locks: ['shipline/us-east-1/demo/web', 'shipline/us-east-1/demo/jobs']]]
        PipelineHarness h = harness(stages, [BRANCH_NAME: 'main'])
        h.call('shiplinePipeline', [label: 'spot'])
        Map lock = h.callsTo('lock')[0][0] as Map
        assertEquals('shipline/us-east-1/demo/web', lock.resource)
        assertEquals([[resource: 'shipline/us-east-1/demo/jobs']], lock.extra)
        List<Map> deploys = h.cliParamsFiles().findAll { it.environment }
        assertEquals([['web', 'jobs']], deploys*.service)
    }

    @Test
    void aPullRequestBuildsAndTestsOnly() {
        PipelineHarness h = harness(DEPLOYING.take(3), [BRANCH_NAME: 'PR-12', CHANGE_ID: '12'])
        h.call('shiplinePipeline', [:])
        assertEquals(['Source', 'Build', 'Test'], stageNames(h))
        assertEquals([], h.callsTo('lock'))
        assertEquals('12', h.cliParamsFiles()[0].change_id)
    }

    @Test
    void teamScriptsRunAsTheirOwnFilesInParallelAndNothingElseReachesSh() {
        PipelineHarness h = harness(DEPLOYING.take(3), [BRANCH_NAME: 'main'])
        h.call('shiplinePipeline', [label: 'spot'])
        Map branches = h.callsTo('parallel')[0][0] as Map
        assertEquals(['unit', 'security'], branches.keySet() as List)
        List<PipelineHarness.ShCall> scripts = h.shRuns.findAll { it.label == 'shipline: team script' }
        assertEquals(2, scripts.size())
        assertTrue(scripts.every { it.script == 'sh -e "$SHIPLINE_SCRIPT"' })
        assertEquals(['./tests/unit.sh', './tests/security.sh'], scripts.collect { h.files[it.env.SHIPLINE_SCRIPT] })
    }

    @Test
    void unknownKeysAndInjectedValuesNeverReachAShString() {
        PipelineHarness refused = harness(DEPLOYING, [BRANCH_NAME: 'main'])
        try {
            refused.call('shiplinePipeline', [lable: 'spot'])
            assert false: 'an unknown key must fail the build'
        } catch (StepError expected) {
            assertTrue(expected.message.contains('lable'))
            assertEquals([], refused.shCalls())
        }
        String evil = "x'; \$(id) `id` \n \${env.X} && rm -rf /"
        PipelineHarness h = harness(DEPLOYING, [BRANCH_NAME: evil])
        h.call('shiplinePipeline', [config: evil, label: evil])
        assertFalse(h.shCalls().any { "${it.label}\n${it.script}".contains(evil) })
        assertEquals(evil, h.cliParamsFiles()[0].branch)
        assertTrue(h.cliParamsFiles().every { it.config == evil })
    }
}
