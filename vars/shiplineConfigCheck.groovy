import io.shipline.CliStep

/**
 * shiplineConfigCheck(args): 'shipline config check' on this agent: validate shipline.yaml without
 * touching AWS.
 * Parameters, return value and an example: shiplineConfigCheck.txt (generated from the CLI's
 * parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineConfigCheck', args)
}
