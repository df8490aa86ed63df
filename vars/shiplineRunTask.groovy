import io.shipline.CliStep

/**
 * shiplineRunTask(args): 'shipline run-task' on this agent: run a one-off task (e.g. a migration) and fail on a non-zero exit.
 * Parameters, return value and an example: shiplineRunTask.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineRunTask', args)
}
