"""setpiece USD: asset interface layers and scene build by USD composition."""
