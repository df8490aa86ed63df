"""The emulated CloudWatch's metrics and alarms: the load balancers' metrics from the requests the data
plane serves, queries that answer them as CloudWatch does (percentiles included), and metric alarms
evaluated from them."""
