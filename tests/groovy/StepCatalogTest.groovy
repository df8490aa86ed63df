import org.junit.Test

import static org.junit.Assert.assertEquals

/** The step tests cover every step steps.json declares. */
class StepCatalogTest {
    @Test
    void cliStepsTestCoversEveryCliStep() {  // shiplineDeploy (a lock around its command): DeployStepTest
        Set<String> cliSteps = PipelineHarness.specs().findAll { name, entry -> entry.command }.keySet()
        assertEquals(cliSteps - 'shiplineDeploy', CliStepsTest.STEPS.keySet())
    }

    @Test
    void injectionTestCoversEveryStep() {  // shiplinePipeline: its own corpus in PipelineStepTest
        assertEquals(PipelineHarness.specs().keySet() - 'shiplinePipeline', InjectionTest.safeArgs().keySet())
    }
}
