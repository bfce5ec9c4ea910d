"""What a scenario is made of: definition.py holds the Scenario, Venue and Deployment
values, the lifecycle steps and the scenario-file loader; faults.py, mesh.py and
latency.py the values they hold. Their field rules are meshrt/validators.py, below every
package whose values a scenario holds (venues, loaders, actors, sequencer)."""
