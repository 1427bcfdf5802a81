"""Map service of the 'Mieux manger pour tous' food-aid programme in Hauts-de-France."""

__version__ = "0.1.0"
