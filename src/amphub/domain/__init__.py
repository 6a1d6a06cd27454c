"""The pure core: frozen values and functions, standard library only, `now` passed in."""
