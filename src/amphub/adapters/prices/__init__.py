"""Day-ahead price providers behind :class:`amphub.application.planning.ports.PriceProvider`:
Energi Data Service, ENTSO-E, Nord Pool and a CSV file. Found by name in ``registry``."""
