import org.junit.Test

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertFalse
import static org.junit.Assert.assertTrue

/**
 * No value a Jenkinsfile passes ever becomes shell: every String (and list element) parameter of every step
 * gets each value of the corpus; the sh scripts and labels stay byte for byte the ones of a harmless call,
 * and the value reaches the CLI unchanged (params file), or pip and node unchanged (environment, label).
 */
class InjectionTest {
    static final List<String> CORPUS = [
            "it's", 'say "hi"', '$(id)', '`id`', '; rm -rf /', 'a\nid\n', '${env.X}', '&& id', '| id',
            "'; id; echo '", '"; id; echo "', '$SHIPLINE_BIN', '[skip ci]', '{"a": 1}', 'null', 'naïve ✓',
    ]

    /** Harmless arguments for every step (the smallest valid ones). */
    static Map<String, Map> safeArgs() {
        return CliStepsTest.STEPS.collectEntries { name, step -> [name, step.args] } +
                [shiplineInstall: [:], shiplineRetryOnAgentLoss: [:], shiplineDeploy: [environment: 'production']]
    }

    /** What every CLI call answers: enough for each step (shiplineDeploy reads the locks, record, decision). */
    static final Map ANSWER = [locks: [production: 'shipline/us-east-1/demo/webapp'],
                               record: PipelineHarness.WORKSPACE + '/.shipline/records/deploy.json',
                               decision: 'succeeded', task_definition: 'arn:aws:ecs:us-east-1:1:task-definition/webapp:1']

    /** Runs `step` as a Jenkinsfile would: CLI steps and shiplineInstall in a node, the retry around one. */
    static PipelineHarness run(String step, Map args) {
        PipelineHarness harness = new PipelineHarness()
        harness.agentWithCli { PipelineHarness.document('x', 0, ANSWER) }
        try {
            if (step == 'shiplineRetryOnAgentLoss') {
                harness.call(step, args, { harness.inNode { harness.call('shiplinePublish', [:]) } })
            } else {
                harness.inNode { harness.call(step, args) }
            }
        } catch (StepError refused) {
            // refused before anything ran but read-only checks (install, config check: shiplineDeploy's lock name)
            assertEquals("${step} refused ${args} after running sh", [], harness.shCalls().findAll {
                !(it.label in ['shipline: install the CLI', 'shipline config check'])
            })
        }
        return harness
    }

    /** Every (step, parameter, value) the corpus tries: String parameters, and list elements. */
    static List<List> cases() {
        List<List> cases = []
        PipelineHarness.specs().findAll { it.key != 'shiplinePipeline' }.each { String step, Map entry ->  // PipelineStepTest
            entry.params.findAll { it.type in ['str', 'list'] }.each { Map param ->
                CORPUS.each { String value ->
                    cases << [step, param, param.type == 'list' ? [value] : value]
                }
            }
        }
        return cases
    }

    static List<String> shText(PipelineHarness harness) {
        return harness.shCalls().collect { "${it.label}\n${it.script}".toString() }
    }

    @Test
    void noValueChangesAnyShScriptOrLabel() {
        Map<String, List<String>> baseline = safeArgs().collectEntries { step, args -> [step, shText(run(step, args))] }
        cases().each { String step, Map param, Object value ->
            PipelineHarness harness = run(step, safeArgs()[step] + [(param.name): value])
            List<String> sh = shText(harness)
            String where = "${step}(${param.name}: ${value.inspect()})"
            assertTrue(where, sh == baseline[step].take(sh.size()))  // the same scripts (fewer when refused)
            String raw = value instanceof List ? value[0] : value
            assertFalse(where, sh.any { it.contains(raw) } && !baseline[step].any { it.contains(raw) })
        }
    }

    @Test
    void valuesReachTheCliUnchangedInTheParamsFile() {
        int checked = 0
        cases().findAll { step, param, value -> PipelineHarness.spec(step).command }.each { step, param, value ->
            PipelineHarness harness = run(step, safeArgs()[step] + [(param.name): value])
            if (harness.shCalls().any { it.label == "shipline ${PipelineHarness.spec(step).command}".toString() }) {
                Map params = harness.cliParamsFiles()[-1]  // the step's own command (shiplineDeploy checks the config first)
                assertEquals("${step}(${param.name})", value, params[param.key])
                String raw = value instanceof List ? value[0] : value
                List<String> env = harness.callsTo('withEnv').collectMany { it[0] as List<String> }
                assertFalse("${step}(${param.name}) in withEnv", env.any { it.contains(raw) })
                checked++
            }
        }
        assertTrue(checked > 20)
    }

    @Test
    void shiplineInstallPassesValuesToPipThroughTheEnvironmentOnly() {
        Map variables = [indexUrl: 'PIP_INDEX_URL', python: 'SHIPLINE_PYTHON']
        variables.each { String param, String variable ->
            CORPUS.each { String value ->
                Map env = run('shiplineInstall', [(param): value]).callsTo('withEnv')[0][0].collectEntries {
                    it.split('=', 2) as List
                }
                assertEquals("${param}: ${value.inspect()}", value, env[variable])
            }
        }
    }

    @Test
    void shiplineRetryOnAgentLossGivesTheLabelToNodeUnchanged() {
        CORPUS.each { String value ->
            PipelineHarness harness = run('shiplineRetryOnAgentLoss', [label: value])
            assertEquals(value, harness.callsTo('node')[0][0])
        }
    }
}
