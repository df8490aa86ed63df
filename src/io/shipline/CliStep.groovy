package io.shipline

/**
 * What every CLI step does, in one place: check the arguments against the step's spec before anything
 * runs, make sure the CLI of this library's version is on the agent, and run the command once.
 */
class CliStep implements Serializable {
    private static final long serialVersionUID = 1L

    /**
     * Runs step `stepName` of the calling vars script `steps` with `args`; returns the result Map (or, for an
     * exit code in `returned`, the CLI's error document).
     */
    static Map run(Object steps, String stepName, Map args, List<Integer> returned = []) {
        StepSpec spec = StepSpec.checked(steps, stepName, args)
        return new CliCall(spec, args).run(steps, steps.shiplineInstall(), returned)
    }
}
