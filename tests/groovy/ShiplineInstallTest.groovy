import io.shipline.CliInstall
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertFalse
import static org.junit.Assert.assertTrue
import static org.junit.Assert.fail

/**
 * shiplineInstall: the CLI of the library's version, in a virtual environment cached per version; any other
 * version fails the build. The install script itself runs for real here, with a stub python3 and pip.
 */
class ShiplineInstallTest {
    static final String VERSION = PipelineHarness.VERSION

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder()

    final PipelineHarness harness = new PipelineHarness()

    /** A directory with a python3 whose `-m venv DIR` makes DIR/bin/python, whose `-m pip install ...
     *  shipline==V` logs its arguments to $STUB_PIP_LOG and writes a bin/shipline printing
     *  ${STUB_REPORTS:-V} for --version. */
    File stubPython() {
        File bin = tmp.newFolder('stub-bin')
        File python = new File(bin, 'python3')
        python.text = '''#!/bin/sh
[ "$1 $2" = "-m venv" ] || exit 9
mkdir -p "$3/bin"
cat > "$3/bin/python" <<'PIP'
#!/bin/sh
echo "$*" >> "$STUB_PIP_LOG"
for arg; do case "$arg" in shipline==*) version="${arg#shipline==}";; esac; done
printf '#!/bin/sh\\necho "%s"\\n' "${STUB_REPORTS:-$version}" > "$(dirname "$0")/shipline"
chmod +x "$(dirname "$0")/shipline"
PIP
chmod +x "$3/bin/python"
'''
        python.setExecutable(true)
        return bin
    }

    /** An agent that runs the install script for real: HOME in a temporary folder, the stub python3. */
    Map agent(Map extraEnv = [:]) {
        File home = tmp.newFolder('home')
        File log = new File(tmp.root, 'pip.log')
        Map env = [HOME: home.path, PATH: "${stubPython().path}:${System.getenv('PATH')}".toString(),
                   STUB_PIP_LOG: log.path] + extraEnv
        harness.responder = { call -> runScript(env + call.env) }
        return [home: home, log: log, env: env]
    }

    /** Runs the install script with `env` (and nothing else) in its environment; returns its stdout. */
    static String runScript(Map env) {
        Process process = new ProcessBuilder('sh', '-c', CliInstall.SCRIPT).with {
            environment().clear()
            environment().putAll(env)
            redirectError(ProcessBuilder.Redirect.INHERIT)
            start()
        }
        String stdout = process.inputStream.getText('UTF-8')
        assertEquals('install script exit status', 0, process.waitFor())
        return stdout
    }

    String install(Map args = [:]) {
        return harness.inNode { harness.call('shiplineInstall', args) }
    }

    @Test
    void installsTheLibraryVersionOnceAndReturnsTheExecutable() {
        Map agent = agent()
        String expected = "${agent.home}/.cache/shipline/venv-${VERSION}/bin/shipline"
        assertEquals([expected, expected], [install(), install()])
        assertEquals(["-m pip install --quiet --disable-pip-version-check shipline==${VERSION}".toString()],
                agent.log.readLines())
    }

    @Test
    void theCacheIsKeyedByVersion() {
        Map agent = agent()
        install()
        String other = runScript(agent.env + [SHIPLINE_VERSION: '0.0.1', SHIPLINE_PYTHON: 'python3'])
        assertEquals(["${agent.home}/.cache/shipline/venv-0.0.1/bin/shipline".toString(), '0.0.1'],
                other.readLines())
        assertEquals(2, agent.log.readLines().size())
        assertTrue(new File(agent.home, ".cache/shipline/venv-${VERSION}/.installed").isFile())
    }

    @Test
    void aCliReportingAnotherVersionFailsTheBuild() {
        Map agent = agent([STUB_REPORTS: '9.9.9'])
        try {
            install()
            fail('a version mismatch must fail the build')
        } catch (StepError expected) {
            String executable = "${agent.home}/.cache/shipline/venv-${VERSION}/bin/shipline"
            String message = "shiplineInstall: ${executable} reports version '9.9.9', but this library is " +
                    "${VERSION}: the agent would run a different CLI than the library's. Delete that virtual " +
                    "environment and check that the package index serves shipline==${VERSION}."
            assertEquals(message, expected.message)
        }
    }

    @Test
    void anInstallThatPrintsNoVersionFailsTheBuild() {
        harness.responder = { call -> '' }
        try {
            install()
            fail('no version must fail the build')
        } catch (StepError expected) {
            assertTrue(expected.message, expected.message.startsWith("shiplineInstall: null reports version 'null'"))
        }
    }

    @Test
    void theScriptIsAConstantAndTheValuesComeThroughTheEnvironment() {
        harness.responder = { call -> "${PipelineHarness.CLI}\n${VERSION}\n".toString() }
        install(indexUrl: 'https://pypi.example.com/simple', python: 'python3.12')
        Map sh = harness.shCalls()[0]
        assertEquals([CliInstall.SCRIPT, 'shipline: install the CLI', true], [sh.script, sh.label, sh.returnStdout])
        assertEquals([["SHIPLINE_VERSION=${VERSION}".toString(), 'SHIPLINE_PYTHON=python3.12',
                       'PIP_INDEX_URL=https://pypi.example.com/simple']], harness.callsTo('withEnv').collect { it[0] })
    }

    @Test
    void aMisspelledArgumentFailsBeforeAnythingRuns() {
        try {
            install(index_url: 'https://pypi.example.com/simple')
            fail('a misspelled argument must fail the build')
        } catch (StepError expected) {
            assertEquals("shiplineInstall: unknown parameter 'index_url' (did you mean 'indexUrl'? valid: indexUrl, " +
                    'python)', expected.message)
            assertEquals([], harness.shCalls())
        }
    }

    @Test
    void withoutAnIndexUrlPipUsesTheAgentsConfiguration() {
        harness.responder = { call -> "${PipelineHarness.CLI}\n${VERSION}\n".toString() }
        install()
        assertFalse(harness.callsTo('withEnv')[0][0].any { it.startsWith('PIP_INDEX_URL=') })
    }
}
