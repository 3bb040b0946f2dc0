"""Training: the Trainer's loop and repeated trainings over seeds."""
