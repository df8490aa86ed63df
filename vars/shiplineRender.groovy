import io.shipline.CliStep

/**
 * shiplineRender(args): 'shipline render' on this agent: render and validate the release's task definition.
 * Parameters, return value and an example: shiplineRender.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineRender', args)
}
