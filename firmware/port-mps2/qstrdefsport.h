// qstrs specific to the ktimers mps2 port
