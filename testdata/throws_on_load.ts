throw new RangeError("This module refuses to load");
