import org.junit.Test

import static org.junit.Assert.assertEquals
import static org.junit.Assert.assertTrue
import static org.junit.Assert.fail

/** The harness itself: it must catch what Jenkins would reject, or the step tests prove nothing. */
class PipelineHarnessTest {
    static final File FIXTURES = new File(PipelineHarness.ROOT, 'tests/groovy/fixtures/vars')

    PipelineHarness harness = new PipelineHarness(FIXTURES)

    static String failure(Closure body) {
        try {
            body()
        } catch (AssertionError expected) {
            return expected.message
        }
        fail('expected the harness to fail the test')
    }

    @Test
    void allowedStepsAreTheDocumentedOnes() {
        String doc = new File(PipelineHarness.ROOT, 'tests/groovy/ALLOWED_STEPS.md').text
        Set<String> documented = (doc =~ /(?m)^\| `(\w+)` \|/).collect { it[1] } as Set
        assertEquals(documented, PipelineHarness.ALLOWED)
    }

    @Test
    void aStepOutsideTheAllowedListFailsTheTest() {
        assertTrue(failure { harness.call('notAllowedStep') }.contains('mail is not a step the library may call'))
    }

    @Test
    void aStepFromANonCpsMethodFailsTheTest() {
        String message = failure { harness.call('stepFromNonCps') }
        assertTrue(message, message.contains('echo called from @NonCPS stepFromNonCps.describe'))
    }

    @Test
    void aStepFromAClosureInANonCpsMethodFailsTheTest() {
        String message = failure { harness.call('stepFromNonCpsClosure') }
        assertTrue(message, message.contains('echo called from @NonCPS stepFromNonCpsClosure.describe'))
    }

    @Test
    void stepsFromCpsCodeAndItsClosuresAreRecordedInOrder() {
        harness.call('stepFromCps')
        assertEquals(['stepFromCps', 'echo', 'echo'], harness.calls*.name)
        assertEquals([['a'], ['b']], harness.callsTo('echo'))
    }

    @Test
    void anInterpolatedShScriptFailsTheTest() {
        assertTrue(failure { harness.call('interpolatedSh', 'x') }.contains('GString'))
    }

    @Test
    void shOutsideANodeFailsTheTest() {
        assertTrue(failure { harness.call('shOutsideNode') }.contains('sh outside node'))
    }

    @Test
    void errorThrowsStepErrorWithTheMessage() {
        try {
            harness.call('error', 'shiplineX: broken')
            fail('error must throw')
        } catch (StepError expected) {
            assertEquals('shiplineX: broken', expected.message)
        }
    }

    @Test
    void retryWithAgentConditionRunsTheBodyAgainOnlyAfterAnAgentLoss() {
        int runs = 0
        Object value = harness.call('retry', [count: 2, conditions: [harness.call('agent')]], {
            if (++runs == 1) {
                throw new AgentLost('agent spot-1 was removed')
            }
            return 'done'
        })
        assertEquals(['done', 2], [value, runs])
    }

    @Test
    void retryWithConditionsDoesNotRunTheBodyAgainAfterAFailingStep() {
        int runs = 0
        try {
            harness.call('retry', [count: 2, conditions: [harness.call('agent')]], {
                runs++
                harness.call('error', 'deploy failed')
            })
            fail('the failure must propagate')
        } catch (StepError expected) {
            assertEquals(1, runs)
        }
    }

    @Test
    void retryGivesUpAfterCountAttempts() {
        int runs = 0
        try {
            harness.call('retry', [count: 2, conditions: [harness.call('agent')]], {
                runs++
                throw new AgentLost('gone again')
            })
            fail('the last agent loss must propagate')
        } catch (AgentLost expected) {
            assertEquals(2, runs)
        }
    }

    @Test
    void writeJsonBehavesLikeJsonLibWithStringsThatLookLikeJson() {
        harness.inNode { harness.call('writeJSON', [file: 'x.json', json: [a: '[1]', b: 'null', c: '[skip ci']]) }
        assertEquals('{"a":[1],"b":null,"c":"[skip ci"}', harness.files["${PipelineHarness.WORKSPACE}/x.json"])
    }

    @Test
    void readJsonWithoutReturnPojoGivesJsonLibObjects() {
        harness.files['/w/r.json'] = '{"a": null, "b": {"c": 1}}'
        Map plain = harness.inNode { harness.call('readJSON', [file: '/w/r.json', returnPojo: true]) } as Map
        Map jsonLib = harness.inNode { harness.call('readJSON', [file: '/w/r.json']) } as Map
        assertEquals([LinkedHashMap, null], [plain.b.getClass(), plain.a])
        assertTrue(!(jsonLib.b instanceof LinkedHashMap) && jsonLib.a != null)
    }
}
