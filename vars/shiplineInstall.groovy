import io.shipline.CliInstall
import io.shipline.StepSpec

/**
 * shiplineInstall(args): installs the shipline CLI of this library's version on the agent (a virtual
 * environment cached per version), checks the version it reports, and returns its executable's path.
 * Parameters and an example: shiplineInstall.txt.
 */
String call(Map args = [:]) {
    StepSpec spec = StepSpec.checked(this, 'shiplineInstall', args)
    Map options = spec.withDefaults(args)
    String version = libraryResource('io/shipline/VERSION').trim()
    List<String> env = ['SHIPLINE_VERSION=' + version, 'SHIPLINE_PYTHON=' + options.python]
    if (options.indexUrl) {
        env << 'PIP_INDEX_URL=' + options.indexUrl
    }
    String output = ''
    withEnv(env) {
        output = sh(label: 'shipline: install the CLI', returnStdout: true, script: CliInstall.SCRIPT)
    }
    CliInstall installed = CliInstall.parse(output)
    String mismatch = installed.mismatch(version)
    if (mismatch) {
        error("shiplineInstall: ${mismatch}")
    }
    return installed.executable
}
