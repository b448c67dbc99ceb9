"""`gpuless pool`: several laptops' shares behind one gateway (members, capacities, the plan)."""
