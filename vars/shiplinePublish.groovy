import io.shipline.CliStep

/**
 * shiplinePublish(args): 'shipline publish' on this agent: build the commit's image once and push it to ECR.
 * Parameters, return value and an example: shiplinePublish.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplinePublish', args)
}
