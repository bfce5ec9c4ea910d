"""What a scenario is made of: definition.py holds the Scenario, Venue and Deployment
values, the lifecycle steps and the scenario-file loader; limits.py, restart.py,
faults.py, mesh.py and latency.py the values they hold. Plain values: the package
imports only the layers below it (venues' fee schedule and source specs, the SDK, the
field rules in meshrt/validators.py); the runtime turns them into actors."""
