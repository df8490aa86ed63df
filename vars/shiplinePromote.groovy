import io.shipline.CliStep

/**
 * shiplinePromote(args): 'shipline promote' on this agent: copy an image by digest to another
 * environment's registry.
 * Parameters, return value and an example: shiplinePromote.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplinePromote', args)
}
