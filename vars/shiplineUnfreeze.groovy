import io.shipline.CliStep

/**
 * shiplineUnfreeze(args): 'shipline unfreeze' on this agent: lift the service's freeze.
 * Parameters, return value and an example: shiplineUnfreeze.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineUnfreeze', args)
}
