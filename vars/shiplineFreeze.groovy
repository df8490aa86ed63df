import io.shipline.CliStep

/**
 * shiplineFreeze(args): 'shipline freeze' on this agent: stop the line: refuse deploys of the service until 'shipline unfreeze'.
 * Parameters, return value and an example: shiplineFreeze.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineFreeze', args)
}
