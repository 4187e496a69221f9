"""Android devices: the adbutils device layer, AVD lifecycle, and the virtual phone (``sim``)."""
