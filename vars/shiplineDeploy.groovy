import io.shipline.CliStep

/**
 * shiplineDeploy(args): 'shipline deploy' on this agent: deploy a release to an environment and judge success on the deployment this run created.
 * Parameters, return value and an example: shiplineDeploy.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineDeploy', args)
}
