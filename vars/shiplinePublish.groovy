import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplinePublish(args): 'shipline publish' on this agent: build the commit's image once and push it to ECR.
 * Parameters, return value and an example: shiplinePublish.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplinePublish')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplinePublish: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
