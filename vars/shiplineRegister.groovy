import io.shipline.CliStep

/**
 * shiplineRegister(args): 'shipline register' on this agent: register the release's task definition.
 * Parameters, return value and an example: shiplineRegister.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineRegister', args)
}
