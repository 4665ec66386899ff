"""Templates, rendering and sending of acknowledgements and alerts."""
