/** What the error step throws in PipelineHarness (Jenkins: hudson.AbortException). */
class StepError extends RuntimeException {
    StepError(String message) {
        super(message)
    }
}
