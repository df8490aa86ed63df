import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplineStatus(args): 'shipline status' on this agent: report the service's revision, deployments, target health and events.
 * Parameters, return value and an example: shiplineStatus.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplineStatus')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplineStatus: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
