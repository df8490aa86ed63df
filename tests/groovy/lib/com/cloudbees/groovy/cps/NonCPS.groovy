package com.cloudbees.groovy.cps

import java.lang.annotation.ElementType
import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy
import java.lang.annotation.Target

/**
 * Stand-in for Jenkins' com.cloudbees.groovy.cps.NonCPS (workflow-cps), with the same name, retention and
 * target, so the library compiles here and PipelineHarness can see which methods carry it.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target([ElementType.METHOD])
@interface NonCPS {
}
