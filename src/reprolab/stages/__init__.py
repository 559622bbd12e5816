"""One thin command-line module per DVC stage; each is named after its stage."""
