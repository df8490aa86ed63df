import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplineDeploy(args): 'shipline deploy' on this agent: deploy a release to an environment and judge success on the deployment this run created.
 * Parameters, return value and an example: shiplineDeploy.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplineDeploy')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplineDeploy: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
