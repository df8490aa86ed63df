package io.shipline

import com.cloudbees.groovy.cps.NonCPS

/**
 * The shipline CLI installed on an agent: the install script (run by shiplineInstall) and what it printed,
 * the executable's path and the version that executable reports.
 */
class CliInstall implements Serializable {
    private static final long serialVersionUID = 1L

    /**
     * Installs shipline==$SHIPLINE_VERSION with $SHIPLINE_PYTHON (and pip's $PIP_INDEX_URL, if set) into a
     * virtual environment cached per version, once (serialized by flock when the agent has it), then prints
     * the executable's path and what its --version says. Only environment variables, never values.
     */
    static final String SCRIPT = '''set -eu
cache="${XDG_CACHE_HOME:-$HOME/.cache}/shipline"
venv="$cache/venv-$SHIPLINE_VERSION"
mkdir -p "$cache"
exec 9>"$venv.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [ ! -f "$venv/.installed" ]; then
    rm -rf "$venv"
    "$SHIPLINE_PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "shipline==$SHIPLINE_VERSION" >&2
    touch "$venv/.installed"
fi
echo "$venv/bin/shipline"
"$venv/bin/shipline" --version
'''

    final String executable
    final String version

    CliInstall(String executable, String version) {
        this.executable = executable
        this.version = version
    }

    /** From the install script's output: the executable's path, then its version (the last two lines). */
    @NonCPS
    static CliInstall parse(String stdout) {
        List<String> lines = stdout.readLines()*.trim().findAll { it }
        return new CliInstall(lines.size() > 1 ? lines[-2] : null, lines ? lines[-1] : null)
    }

    /** Why this install cannot run the library's `expected` version, or null when it can. */
    @NonCPS
    String mismatch(String expected) {
        if (version == expected) {
            return null
        }
        return "${executable} reports version '${version}', but this library is ${expected}: the agent " +
                "would run a different CLI than the library's. Delete that virtual environment and check " +
                "that the package index serves shipline==${expected}."
    }
}
