"""`ddsim view`: an interactive dashboard of a running model in the browser (Mesa's SolaraViz).

`sim.view.model` holds the steerable model, `sim.view.network` and `sim.view.charts` build
what the panels draw, `sim.view.app` the Solara page, `sim.view.server` the web server.
"""
