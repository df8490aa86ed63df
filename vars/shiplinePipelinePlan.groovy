import io.shipline.CliStep

/**
 * shiplinePipelinePlan(args): 'shipline pipeline plan' on this agent: the stages this build runs.
 * Parameters, return value and an example: shiplinePipelinePlan.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplinePipelinePlan', args)
}
