import io.shipline.CliStep

/**
 * shiplineStatus(args): 'shipline status' on this agent: report the service's revision, deployments, target health and events.
 * Parameters, return value and an example: shiplineStatus.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineStatus', args)
}
