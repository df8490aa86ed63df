import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplineConfigCheck(args): 'shipline config check' on this agent: validate shipline.yaml without
 * touching AWS.
 * Parameters, return value and an example: shiplineConfigCheck.txt (generated from the CLI's
 * parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplineConfigCheck')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplineConfigCheck: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
