import io.shipline.CliStep

/**
 * shiplineFollow(args): 'shipline follow' on this agent: judge and finish a detached deploy (from AWS state alone).
 * Parameters, return value and an example: shiplineFollow.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineFollow', args)
}
