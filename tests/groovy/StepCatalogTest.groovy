import org.junit.Test

import static org.junit.Assert.assertEquals

/** The step tests cover every step steps.json declares. */
class StepCatalogTest {
    @Test
    void cliStepsTestCoversEveryCliStep() {
        Set<String> cliSteps = PipelineHarness.specs().findAll { name, entry -> entry.command }.keySet()
        assertEquals(cliSteps, CliStepsTest.STEPS.keySet())
    }

    @Test
    void injectionTestCoversEveryStep() {
        assertEquals(PipelineHarness.specs().keySet(), InjectionTest.safeArgs().keySet())
    }
}
