import org.junit.Test

import static org.junit.Assert.assertEquals

/** Jenkinsfile.example runs through the harness, both ways it can be written, for the three kinds of build. */
class JenkinsfileExampleTest {
    static final File EXAMPLE = new File(PipelineHarness.ROOT, 'Jenkinsfile.example')

    /** Runs the example (the @Library line is Jenkins' own: dropped here) with `wholePipeline` as given. */
    static PipelineHarness run(boolean whole, Map env, List planned) {
        PipelineHarness h = PipelineStepTest.harness(planned, env)
        String text = EXAMPLE.text.readLines().findAll { !it.startsWith('@Library') }.join('\n')
                .replace('boolean wholePipeline = true', "boolean wholePipeline = ${whole}")
        Script script = new GroovyShell(PipelineHarness.classLoader,
                new Binding([env: h.env, scm: [type: 'GitSCM'], currentBuild: h.currentBuild])).parse(text)
        script.metaClass.methodMissing = { String method, Object args -> h.dispatch(method, args as Object[]) }
        script.run()
        return h
    }

    static List<String> stages(PipelineHarness h) {
        return h.callsTo('stage').collect { it[0] as String }
    }

    static final List DEPLOYING = PipelineStepTest.DEPLOYING
    static final List TESTING = PipelineStepTest.DEPLOYING.take(3)
    static final List ALL = ['Source', 'Build', 'Test', 'Deploy staging', 'Approve production', 'Deploy production']

    @Test
    void theWholePipelineForAPullRequestTheMainBranchAndATag() {
        assertEquals(ALL.take(3), stages(run(true, [BRANCH_NAME: 'PR-7', CHANGE_ID: '7'], TESTING)))
        assertEquals(ALL, stages(run(true, [BRANCH_NAME: 'main', BRANCH_IS_PRIMARY: 'true'], DEPLOYING)))
        assertEquals(ALL, stages(run(true, [TAG_NAME: 'v1.4.0'], DEPLOYING)))
    }

    @Test
    void theSamePipelineWithIndividualSteps() {
        assertEquals(ALL.take(3), stages(run(false, [BRANCH_NAME: 'PR-7', CHANGE_ID: '7'], TESTING)))
        PipelineHarness main = run(false, [BRANCH_NAME: 'main', BRANCH_IS_PRIMARY: 'true'], DEPLOYING)
        assertEquals(ALL, stages(main))
        List<Map> deploys = main.cliParamsFiles().findAll { it.environment }
        assertEquals(['staging', 'production', 'production'], deploys*.environment)
        assertEquals([false, true, null], deploys*.detach)  // production: detached, then followed
        assertEquals('doubling/ecs-svc/1/webapp:7', deploys[2].token)
        assertEquals(90, (main.callsTo('sleep')[0][0] as Map).time)  // outside any node
        assertEquals(ALL, stages(run(false, [TAG_NAME: 'v1.4.0'], DEPLOYING)))
    }
}
