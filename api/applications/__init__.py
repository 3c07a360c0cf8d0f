"""Handheld applications (掌上办): uploads, submissions, bundles' sub-cases, the workflow, deadlines, ratings."""
