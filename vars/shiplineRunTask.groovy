import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplineRunTask(args): 'shipline run-task' on this agent: run a one-off task (e.g. a migration) and fail on a non-zero exit.
 * Parameters, return value and an example: shiplineRunTask.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplineRunTask')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplineRunTask: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
