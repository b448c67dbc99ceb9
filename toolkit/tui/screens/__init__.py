"""One module per wizard step (Machine, Model, Compose, Launch, Benchmark, Chat) plus the help screen."""
