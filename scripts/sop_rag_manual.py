"""The Northgate DC operations manual (fictional, project-written) for scripts/make_sop_rag_suite.py:
chunks of the manual, and for each chunk the operator questions it answers, as (typed, spoken) pairs
or (typed, spoken, answer) triples, with the chunks that answer part of them. An answer is the short span
of the chunk that answers the question (a string, or a list of equivalent spans such as "16" and
"sixteen"); the `rag` task scores generated answers against it. Only questions with one crisp span
carry an answer."""

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
         "twenty one", "twenty two", "twenty three", "twenty four"]


def say(n):
    """A number as an operator says it."""
    return WORDS[n] if 0 <= n < len(WORDS) else str(n)


class Manual:
    def __init__(self):
        self.chunks = []
        self.specs = []

    def add(self, section, key, title, text, questions, related=()):
        cid = f"{section}-{key}"
        self.chunks.append({"id": cid, "section": section, "title": title, "text": " ".join(text.split())})
        self.specs.append({"chunk": cid, "section": section, "questions": questions, "related": list(related)})
        return cid


def charging(m):
    s = "charging"
    ov = m.add(s, "overview", "Battery charging: general rules", """
        Only trained operators charge or change traction batteries. Charge a battery when its indicator reaches
        the truck's charge threshold, never to empty. Park the truck in a marked charging bay, switch the truck
        off, remove the key, and connect the charger plug fully before switching the charger on. Never smoke,
        use a phone or make sparks within 3 metres of a charging bay.""",
        [("when should a battery be put on charge", "when am i supposed to put the battery on charge"),
         ("phone use near charging bays?", "can i use my phone next to the charging bays")])
    rooms = [
        ("room-a", "A", "north wall next to door 1", "lead-acid", 16, "24 hours", "two extraction fans that must run while any charger is on"),
        ("room-b", "B", "south mezzanine above the packing benches", "lithium-ion", 10, "05:00 to 23:00", "a heat detector linked to the fire panel in every bay"),
        ("room-c", "C", "cold store anteroom", "cold-rated lithium-ion", 6, "24 hours", "a heated cabinet that keeps the packs above 5 degrees while they charge"),
    ]
    for key, letter, where, chem, bays, hours, safety in rooms:
        m.add(s, key, f"Charging room {letter}", f"""
            Charging room {letter} is on the {where}. It charges {chem} batteries only and has {bays} bays,
            open {hours}. The room has {safety}. Bays are numbered from the door; bay 1 is kept free for
            battery changes.""",
            [(f"where is charging room {letter}", f"where do i find charging room {letter.lower()}",
              where.split(" next")[0].split(" above")[0]),
             (f"how many bays in charging room {letter}", f"how many charging bays are there in room {letter.lower()}",
              [str(bays), say(bays)]),
             (f"charging room {letter} opening hours", f"what time is charging room {letter.lower()} open", hours)],
            related=[ov])
    trucks = [
        ("pallet-jack", "electric pallet jacks", "24 V lithium-ion", "B", 20, "2 hours", "allowed at breaks", "no cool-down"),
        ("counterbalance", "counterbalance trucks", "48 V lead-acid", "A", 30, "8 hours", "not allowed", "8 hours of cooling before use"),
        ("reach-truck", "reach trucks", "48 V lithium-ion", "B", 20, "90 minutes", "allowed at breaks", "no cool-down"),
        ("order-picker", "order pickers", "24 V lead-acid", "A", 30, "8 hours", "not allowed", "6 hours of cooling before use"),
        ("tugger", "tow tractors (tuggers)", "36 V lithium-ion", "B", 25, "2.5 hours", "allowed at breaks", "no cool-down"),
        ("scrubber", "floor scrubbers", "24 V AGM", "A", 40, "6 hours", "not allowed", "1 hour of cooling before use"),
        ("freezer-reach", "freezer reach trucks", "48 V cold-rated lithium-ion", "C", 25, "2 hours", "allowed at breaks", "15 minutes in the anteroom before returning to the freezer"),
    ]
    names = {"pallet-jack": ("pallet jack", "pallet jack"), "counterbalance": ("counterbalance", "counterbalance truck"),
             "reach-truck": ("reach truck", "reach truck"), "order-picker": ("order picker", "order picker"),
             "tugger": ("tugger", "tugger"), "scrubber": ("floor scrubber", "floor scrubber"),
             "freezer-reach": ("freezer reach truck", "freezer reach truck")}
    for key, what, battery, room, threshold, time, opportunity, cool in trucks:
        short, spoken = names[key]
        m.add(s, f"truck-{key}", f"Charging {what}", f"""
            {what.capitalize()} run on {battery} batteries and charge in room {room}. Put them on charge at
            {threshold} percent on the display. A full charge takes {time}. Opportunity charging: {opportunity}.
            After a full charge allow {cool}.""",
            [(f"{short} charging time", f"how long does the {spoken} take to charge", time),
             (f"at what % do I charge the {short}", f"at what percent should i put the {spoken} on charge",
              [str(threshold), say(threshold)]),
             (f"{short} cool down after charging", f"does the {spoken} need to cool down after charging")],
            related=[ov, f"{s}-room-{room.lower()}"])
    water = m.add(s, "watering", "Watering lead-acid batteries", """
        Lead-acid batteries are watered once a week, on Monday night shift, and only after a full charge.
        Use distilled water from the blue dispenser in room A and fill each cell to 6 mm above the plates.
        Never add acid. Record the watering on the battery card.""",
        [("how often to water lead acid batteries", "how often do the lead acid batteries need water"),
         ("can I top up battery with tap water", "can i use normal tap water to top up the battery")],
        related=[f"{s}-room-a"])
    m.add(s, "watering-ppe", "Watering: protective equipment", """
        Wear a full face shield, chemical gloves and the rubber apron when watering or checking electrolyte.
        Eyewash station EW-2 is inside the door of room A; flush eyes for at least 15 minutes and report it
        as a first aid incident.""",
        [("PPE for battery watering", "what do i need to wear when i water the batteries"),
         ("where is eyewash in charging room A", "where's the eye wash station in the charging room")],
        related=[water])
    change = m.add(s, "battery-change", "Battery changes: who and with what", """
        Battery changes are done only by level 3 operators holding the battery changer endorsement. Use the
        roller stand in bay 1 of the room, never a forklift's forks, and the overhead hoist only for
        counterbalance batteries over 1,000 kg.""",
        [("who can change a forklift battery", "who is allowed to swap a forklift battery"),
         ("can I lift a battery with forks", "can i lift the battery out with another forklift")],
        related=[ov])
    m.add(s, "battery-change-steps", "Battery changes: steps", """
        To change a battery: park in bay 1, lower the forks, key off, disconnect the plug, release the battery
        gate, roll the battery onto the roller stand, lock the stand, roll the charged battery in and close
        the gate before reconnecting. Two people must be present for batteries above 500 kg.""",
        [("battery change steps", "what are the steps to change a battery"),
         ("how many people for a heavy battery swap", "do i need a second person to change a big battery")],
        related=[change])
    codes = [
        ("E01", "no battery detected: check the plug is fully home", "E02", "battery over temperature: wait 30 minutes, then restart",
         "E03", "mains supply fault: call maintenance on extension 4410"),
        ("E04", "wrong battery voltage for this charger: move to the matching charger", "E05", "charge timeout after 14 hours: tag the battery out",
         "E06", "earth leakage: switch off at the isolator and call maintenance"),
        ("E07", "communication lost with the lithium pack: reseat the data connector", "E08", "cell imbalance: charge again once; if it returns, tag out",
         "E09", "fan failure in the charger: do not use this charger"),
        ("E10", "low electrolyte: water the battery after charging", "E11", "plug over temperature: inspect the plug for burn marks",
         "E12", "internal charger fault: move the truck to another bay and report it"),
    ]
    for i, (a, am, b, bm, c, cm) in enumerate(codes, 1):
        m.add(s, f"fault-codes-{i}", f"Charger fault codes {a} to {c}", f"""
            Charger display codes {a} to {c}. {a}: {am}. {b}: {bm}. {c}: {cm}. Log every fault code in the
            charger book before leaving the bay.""",
            [(f"charger error {b} meaning", f"what does {b[0]} {say(int(b[1:]))} on the charger mean", bm.split(":")[0]),
             (f"charger code {a}", f"charger says {a[0]} {say(int(a[1:]))}", am.split(":")[0]),
             (f"charger shows {c} what to do", f"the charger is showing {c[0]} {say(int(c[1:]))} what do i do")])
    swollen = m.add(s, "damaged-battery", "Damaged or swollen batteries", """
        A battery with a cracked case, a swollen lithium pack, a hot smell or a damaged cable is tagged out
        with a red DO NOT USE tag, left in place if it is hot, and reported to maintenance on extension 4410
        and to your supervisor. Never charge it.""",
        [("swollen lithium battery what to do", "the lithium battery looks swollen what should i do"),
         ("cracked battery case", "i found a crack in the battery case")],
        related=[ov])
    m.add(s, "thermal-event", "Lithium battery thermal event", """
        If a lithium pack smokes, hisses or flames: shout fire, press the nearest fire alarm call point,
        leave the room and close the door. Do not use water or a CO2 extinguisher on it; the fire team uses
        the lithium fire blanket stored outside room B.""",
        [("lithium battery smoking", "a lithium battery is smoking what do i do"),
         ("which extinguisher for lithium battery fire", "what extinguisher do i use on a battery fire")],
        related=[swollen])
    m.add(s, "electrolyte-spill", "Electrolyte spills", """
        Acid spilt in room A is neutralised with the soda ash from the yellow spill kit by the door, then
        mopped and the mop water put in the acid waste drum. Spills larger than 5 litres are a dangerous
        goods spill: clear the room and call the DG coordinator.""",
        [("battery acid spill cleanup", "how do i clean up battery acid on the floor"),
         ("where is the acid spill kit", "where's the spill kit for battery acid")],
        related=[water])
    m.add(s, "cable-check", "Charger cables and plugs", """
        Check the charger cable and plug at every connection: no cuts, exposed copper, melted plastic or
        loose pins. A damaged cable is tagged out and the charger bay closed with a chain until repaired.""",
        [("what to check on charger cable", "what should i check on the charging cable"),
         ("exposed copper on charger cable", "the charging cable has bare wire showing")],
        related=[ov])


def forklift(m):
    s = "forklift"
    ov = m.add(s, "levels-overview", "Operator levels: overview", """
        Every operator of powered equipment holds a Northgate licence level from 1 to 5, shown on the badge
        with a coloured stripe. A level allows that level's equipment and every level below it. Licences are
        issued by the training team in the training room next to the canteen.""",
        [("what do forklift licence levels mean", "what do the different forklift license levels mean"),
         ("where is the training room", "where's the training room for forklift licenses")])
    levels = [
        (1, "white", "walk-behind and ride-on electric pallet jacks", "4 hours of training and a practical test"),
        (2, "green", "counterbalance trucks up to 2.5 tonnes and tow tractors", "3 days of training, a written test and a practical test"),
        (3, "blue", "reach trucks up to 10 metres lift height and battery changes with the endorsement", "3 days of training after 3 months at level 2"),
        (4, "orange", "order pickers and reach trucks above 10 metres in the narrow aisles", "2 days of training including a harness and rescue drill"),
        (5, "red", "all trucks and instructing others", "the instructor course and a yearly audit by the training manager"),
    ]
    for n, colour, equipment, training in levels:
        m.add(s, f"level-{n}", f"Level {n} licence ({colour} stripe)", f"""
            A level {n} licence ({colour} stripe) allows {equipment}. Getting it takes {training}.""",
            [(f"what can a level {n} drive", f"what am i allowed to drive with a level {say(n)} license"),
             (f"how to get level {n} licence", f"how do i get my level {say(n)} forklift license"),
             (f"{colour} stripe badge level", f"what level is a {colour} stripe on the badge", [str(n), say(n)])],
            related=[ov])
    m.add(s, "refresher", "Refresher training and expiry", """
        Levels 1 and 2 are refreshed every 3 years, levels 3 and 4 every 2 years, level 5 every year. A
        licence expires on the date printed on the badge; an expired badge does not start any truck fitted
        with the badge reader.""",
        [("how often is forklift refresher training", "how often do i need to redo my forklift training"),
         ("licence expired can I still drive", "my license expired can i still drive the truck")],
        related=[ov])
    m.add(s, "suspension", "Licence suspension", """
        A licence is suspended after any collision while driving, two near misses in 6 months, or driving
        equipment above your level. The supervisor removes the badge; reinstatement needs a practical
        reassessment by a level 5 instructor.""",
        [("when is a forklift licence suspended", "when do they suspend your forklift license"),
         ("how to get licence back after suspension", "how do i get my license back after it was suspended")])
    m.add(s, "agency-drivers", "Agency and visiting drivers", """
        Agency operators may drive only after a Northgate assessment on their first day, even with another
        certificate; they get a temporary badge valid for 30 days. Visiting drivers of other companies never
        drive Northgate trucks.""",
        [("can agency staff drive forklifts", "can the agency guys drive the forklifts on day one"),
         ("can truck drivers use our forklift", "can a visiting truck driver use one of our forklifts")])
    pre = m.add(s, "pre-shift", "Pre-shift check", """
        Before the first use in every shift, complete the pre-shift check on the truck's tablet: forks and
        chains, tyres, horn, lights, blue spot light, brakes, seat belt, mast hydraulics for leaks, battery
        level and the data plate. It takes about 5 minutes.""",
        [("pre shift check items forklift", "what do i check on the forklift before my shift"),
         ("how long pre-shift check", "how long does the pre shift check take")])
    m.add(s, "pre-shift-fail", "Failed pre-shift check", """
        If any item of the pre-shift check fails, the tablet locks the truck. Park it in the quarantine row
        next to the workshop, hang the yellow fault tag on the steering wheel and tell your team leader, who
        assigns another truck.""",
        [("forklift failed pre shift check", "the forklift failed the check what now"),
         ("where to park a faulty truck", "where do i leave a broken forklift")],
        related=[pre])
    zones = [
        ("dock-apron", "the dock apron (inside doors 1 to 24)", 8, "walk-speed near the dock edges and stop at every door opening"),
        ("main-aisles", "the main aisles (A to F)", 10, "horn at every cross aisle"),
        ("narrow-aisles", "the narrow aisles (rows 20 to 45)", 6, "only one truck per aisle; wait at the yellow line"),
        ("cold-store", "the cold store and freezer", 5, "floors can ice up near the doors"),
        ("yard", "the yard and trailer park", 15, "give way to road trucks at all times"),
        ("mezzanine", "the mezzanine lift area", 4, "only pallet jacks on the mezzanine; no ride-on trucks"),
    ]
    for key, where, kmh, note in zones:
        m.add(s, f"speed-{key}", f"Speed limit: {where}", f"""
            The speed limit in {where} is {kmh} km/h, shown on the floor markings. Note: {note}. Speed
            limiters are set per zone by the floor beacons.""",
            [(f"speed limit {where.split('(')[0].replace('the ', '').strip()}", f"what's the speed limit in the {where.split('(')[0].replace('the ', '').strip()}",
              [str(kmh), say(kmh)]),
             (f"rules for driving in {where.split('(')[0].replace('the ', '').strip()}", f"anything i need to watch out for driving in the {where.split('(')[0].replace('the ', '').strip()}")])
    m.add(s, "capacity", "Load capacity", """
        Never lift more than the capacity on the truck's data plate at the load centre shown, usually 600 mm.
        Capacity falls as the mast goes up and as the load centre moves out; check the plate's derating table
        for loads above 6 metres.""",
        [("how to know forklift capacity", "how do i know how much the forklift can lift"),
         ("capacity at height", "does the forklift lift less when the mast is high")])
    m.add(s, "travel-forks", "Travelling with a load", """
        Travel with the forks 150 mm above the floor and the mast tilted back. Drive in reverse when the load
        blocks your view. On ramps, keep the load uphill: drive forward up a ramp and reverse down it.""",
        [("fork height when driving", "how high should the forks be when i'm driving"),
         ("ramp direction with load", "do i go forward or backwards down the ramp with a load")])
    m.add(s, "pedestrians", "Pedestrians and trucks", """
        Pedestrians walk only in the green walkways. Trucks give way to pedestrians at crossings, sound the
        horn at blind corners and keep 3 metres from anyone on foot. The blue spot light projects 4 metres
        ahead of a reversing truck.""",
        [("distance from pedestrians forklift", "how far do i have to stay away from people when driving"),
         ("what is the blue light on forklift for", "what is the blue light on the forklift for")])
    m.add(s, "parking", "Parking a truck", """
        Park only in marked truck bays or charging bays: forks flat on the floor, mast tilted forward,
        parking brake on, key out and returned to the key cabinet at the team leader desk. Never park in
        front of fire exits, extinguishers or electrical panels.""",
        [("how to park forklift properly", "how do i park the forklift properly"),
         ("where do forklift keys go", "where do i put the forklift keys at the end of shift")])
    m.add(s, "passengers", "No passengers, no lifting people", """
        Never carry a passenger and never lift a person on the forks or on a pallet. Work at height is done
        only from an order picker with a harness or from the mobile platforms held by maintenance.""",
        [("can I lift someone on a pallet", "can i lift my mate up on a pallet to reach something"),
         ("ride on forklift with colleague", "can my coworker ride along on the forklift")])
    m.add(s, "attachments", "Attachments", """
        Clamps, rotators and fork extensions need the attachment endorsement on a level 2 or higher licence
        and a data plate that lists the attachment. Fork extensions may be no longer than 1.5 times the
        forks.""",
        [("who can use a clamp attachment", "who's allowed to use the clamp on the forklift"),
         ("max length fork extensions", "how long can the fork extensions be")])
    m.add(s, "lpg", "LPG trucks in the yard", """
        The two LPG counterbalance trucks work only in the yard. Cylinders are changed at the LPG cage by
        gate 2 by level 2 operators wearing gloves and a face shield; close the valve before uncoupling.""",
        [("where to change LPG bottle", "where do i swap the gas bottle on the yard truck"),
         ("who can change LPG cylinders", "who is allowed to change the gas cylinder")])
    m.add(s, "fault-report", "Reporting a truck fault", """
        Report any fault that appears during the shift on the truck's tablet under Report fault, with a
        photo. Faults that affect brakes, steering, horn or hydraulics mean the truck stops at once and is
        parked in the quarantine row.""",
        [("how do I report a forklift fault", "how do i report a problem with my forklift")],
        related=[pre])
    m.add(s, "seat-belt", "Seat belts", """
        Wear the seat belt on every sit-down truck, even for short moves. Trucks with the belt interlock do
        not drive faster than 2 km/h while the belt is open.""",
        [("do I need seat belt on forklift short trips", "do i have to wear the seatbelt for a short move"),
         ("belt interlock speed limit", "why does my truck only go two kilometres an hour")])


def hazmat(m):
    s = "hazmat"
    ov = m.add(s, "overview", "Dangerous goods: general rules", """
        Dangerous goods (DG) are stored only in the DG area behind door 24, in the cage for their class,
        within the quantity limit for the cage. The DG coordinator on extension 4600 approves any exception.
        Every DG pallet needs a readable class label before putaway.""",
        [("where are dangerous goods stored", "where do we keep the dangerous goods"),
         ("DG coordinator phone", "what's the number for the dangerous goods coordinator")])
    m.add(s, "training", "DG awareness training", """
        Anyone handling DG completes DG awareness training before their first DG task and every 2 years.
        Team leaders of the DG area also hold the DG handler certificate.""",
        [("how often DG training", "how often do i have to do the dangerous goods training")],
        related=[ov])
    classes = [
        ("2-1", "2.1", "flammable gases (aerosols, gas cartridges)", "H1", "40 pallets", "away from classes 3, 5.1 and 8, and never in direct sun"),
        ("2-2", "2.2", "non-flammable gases (fire extinguishers, CO2 cylinders)", "H2", "20 pallets", "chained upright, away from heat"),
        ("3", "3", "flammable liquids (paints, solvents, fuel additives)", "H3", "30 pallets", "on the bunded racks, away from class 5.1"),
        ("4-1", "4.1", "flammable solids (matches, firelighters)", "H4", "10 pallets", "dry, away from class 5.1 and class 8"),
        ("5-1", "5.1", "oxidisers (pool chlorine, peroxide)", "H5", "10 pallets", "away from every flammable class"),
        ("6-1", "6.1", "toxic substances (pesticides)", "H6", "8 pallets", "away from food and feed"),
        ("8", "8", "corrosives (acids, drain cleaners, batteries with acid)", "H7", "25 pallets", "on the acid-proof bunds, away from classes 4.1 and 5.1"),
        ("9", "9", "miscellaneous dangerous goods, including lithium batteries", "H8", "30 pallets", "lithium batteries on the lower two levels only, away from class 3"),
    ]
    for key, cls, what, cage, limit, rule in classes:
        m.add(s, f"class-{key}", f"Class {cls}: {what.split(' (')[0]}", f"""
            Class {cls} {what} go in cage {cage}. The cage holds at most {limit}. Store them {rule}.""",
            [(f"where to store class {cls}", f"where does class {cls.replace('.', ' point ')} go", cage),
             (f"max pallets cage {cage}", f"how many pallets can go in cage {cage[0].lower()} {say(int(cage[1:]))}",
              [limit.split()[0], say(int(limit.split()[0]))]),
             (f"class {cls} segregation rule", f"what do i keep class {cls.replace('.', ' point ')} away from")],
            related=[ov])
    m.add(s, "receiving", "Receiving dangerous goods", """
        At receiving, check that the DG declaration matches the labels, UN numbers and quantities. Missing or
        wrong paperwork: the goods stay on the trailer or in the DG quarantine bay by door 24 and the DG
        coordinator is called.""",
        [("DG paperwork wrong at receiving", "the dangerous goods paperwork doesn't match what do i do"),
         ("what to check receiving DG", "what do i check when dangerous goods come in")],
        related=[ov])
    leak = m.add(s, "leaking", "Leaking or damaged DG packages", """
        Do not touch a leaking DG package. Keep people 10 metres away, stop trucks entering, and call the DG
        coordinator on 4600; after hours call the duty manager on 4000. Only the trained spill team cleans
        up.""",
        [("leaking DG package what to do", "a dangerous goods box is leaking what do i do"),
         ("after hours DG emergency number", "who do i call for a chemical leak at night")],
        related=[ov])
    m.add(s, "spill-kits", "Spill kit locations", """
        DG spill kits are at door 24, at the end of aisle F and in charging room A. Each holds absorbent
        pads, booms, neutraliser, bags and gloves; whoever uses a kit reports it so that it is refilled within
        a day.""",
        [("where are the spill kits", "where can i find a spill kit"),
         ("spill kit used who refills", "i used a spill kit who refills it")],
        related=[leak])
    m.add(s, "labels", "Labels and placards", """
        Every DG outer package carries its class diamond and UN number. Outbound trailers with DG get the
        placards from the dispatch office fitted to all four sides before the seal goes on.""",
        [("who fits DG placards on trailer", "where do i get the placards for the trailer"),
         ("DG placards how many sides", "how many sides of the trailer need placards")],
        related=[ov])
    m.add(s, "segregation", "Segregation chart", """
        The segregation chart on the wall of the DG area shows which classes may share an aisle: oxidisers
        (5.1) never share an aisle with flammables (2.1, 3, 4.1), and corrosives (8) never sit above any other
        class.""",
        [("can oxidisers be next to flammables", "can i put the oxidisers next to the paint")],
        related=[f"{s}-class-5-1", f"{s}-class-3"])
    m.add(s, "lithium-returns", "Returned lithium batteries", """
        Returned devices with lithium batteries are checked at the returns bench. Damaged or swollen ones go
        into the sand-filled metal drum at door 23 and are logged for the specialist collection every
        Thursday.""",
        [("damaged lithium battery from a return", "what do i do with a damaged lithium battery from a return"),
         ("lithium battery collection day", "what day do they collect the damaged lithium batteries")],
        related=[f"{s}-class-9"])
    m.add(s, "aerosols", "Damaged aerosols", """
        Dented or leaking aerosols are placed in the aerosol waste cage H1-W, never crushed or put in general
        waste. Wear gloves and keep them away from charging rooms.""",
        [("what to do with dented aerosol cans", "where do the dented spray cans go")],
        related=[f"{s}-class-2-1"])
    m.add(s, "ppe", "PPE in the DG area", """
        In the DG area wear safety boots, high-visibility vest, safety glasses and nitrile gloves; add the
        face shield and apron for class 8 handling. No food, drink or smoking in the DG area.""",
        [("PPE for dangerous goods area", "what do i wear in the dangerous goods area")],
        related=[ov])


def docks(m):
    s = "docks"
    ov = m.add(s, "overview", "Dock doors: overview", """
        The building has 24 dock doors on the east side, numbered from the north. Door use is fixed by group;
        the dock office (between doors 12 and 13) assigns the door on arrival and can swap doors within a
        group only.""",
        [("how many dock doors", "how many dock doors do we have"),
         ("where is the dock office", "where's the dock office")])
    groups = [
        ("doors-1-6", 1, 6, "inbound parcels and part loads (LTL)", "06:00 to 14:00", "30 minutes"),
        ("doors-7-14", 7, 14, "inbound full truckloads", "05:00 to 22:00", "60 minutes"),
        ("doors-15-20", 15, 20, "outbound store deliveries", "12:00 to 04:00", "45 minutes"),
        ("doors-21-22", 21, 22, "refrigerated (reefer) loads, inbound and outbound", "00:00 to 24:00", "45 minutes"),
        ("door-23", 23, 23, "customer returns", "08:00 to 16:00", "30 minutes"),
        ("door-24", 24, 24, "dangerous goods only", "07:00 to 15:00", "60 minutes"),
    ]
    for key, lo, hi, use, hours, slot in groups:
        doors = f"doors {lo} to {hi}" if lo != hi else f"door {lo}"
        spoken_doors = f"doors {say(lo)} to {say(hi)}" if lo != hi else f"door {say(lo)}"
        m.add(s, key, f"Dock {doors}", f"""
            Dock {doors}: {use}. Open {hours}; a booked slot lasts {slot}.""",
            [(f"what are dock {doors} used for", f"what do we use {spoken_doors} for"),
             (f"dock {doors} opening hours", f"what time are {spoken_doors} open", hours),
             (f"slot length dock {doors}", f"how long is a delivery slot at {spoken_doors}", slot)],
            related=[ov])
    book = m.add(s, "booking", "Booking a delivery slot", """
        Carriers book slots in the dock booking portal at least 24 hours ahead. A booking needs the PO
        number, pallet count and whether the load is chilled or DG. Bookings for the same day are accepted
        only by the dock office by phone on 4200.""",
        [("how do carriers book a slot", "how does a carrier book a delivery slot"),
         ("same day delivery booking", "can a driver book for today")],
        related=[ov])
    m.add(s, "late", "Late arrivals", """
        A truck more than 30 minutes after its slot loses the slot and is unloaded at the next free slot of
        its group; the dock office may refuse it after 16:00. Late arrivals are logged against the carrier.""",
        [("truck late for slot", "the truck is forty minutes late what happens"),
         ("can we refuse a late truck", "can we turn away a late truck")],
        related=[book])
    m.add(s, "early", "Early arrivals", """
        Trucks that arrive more than 60 minutes early wait in the truck park, row T, until 15 minutes before
        their slot. The dock office calls the driver's phone when the door is ready.""",
        [("truck arrived early where to wait", "the driver came two hours early where does he wait")],
        related=[book])
    m.add(s, "no-show", "No-shows", """
        A booked truck that has not arrived 2 hours after its slot is a no-show; the dock office cancels the
        booking, informs purchasing and frees the door.""",
        [("when is a truck a no show", "when do we count a truck as a no show")],
        related=[book])
    m.add(s, "detention", "Detention time", """
        Unloading must start within 45 minutes of the truck docking. If a truck waits more than 2 hours at
        the door through our delay, the dock office records detention time on the carrier's paperwork.""",
        [("when is detention time recorded", "when do we have to record detention for a driver")],
        related=[book])
    restraint = m.add(s, "restraint", "Wheel chocks and trailer restraints", """
        Before anyone enters a trailer, the trailer restraint hook at the door must show green, or, at doors
        without restraints (23 and 24), both wheel chocks are placed at the rear axle. The driver hands the
        keys to the dock office until unloading ends.""",
        [("wheel chocks which doors", "which doors need the wheel chocks"),
         ("driver keys during unloading", "does the driver have to give us the keys while we unload")],
        related=[ov])
    m.add(s, "leveler", "Dock levelers", """
        Raise the dock leveler only after the restraint is green. Check the lip rests at least 100 mm on the
        trailer floor. A leveler that drifts or a lip that does not extend is locked out and reported to
        maintenance on 4410.""",
        [("how far should the leveler lip sit on trailer", "how far does the leveler lip have to sit on the trailer"),
         ("dock leveler broken", "the dock leveler isn't working")],
        related=[restraint])
    m.add(s, "trailer-check", "Trailer inspection", """
        Before loading, inspect the trailer: floor boards intact with no holes, no water, roof sound (lights
        off to see daylight), no smell, and for reefers the unit set to the load temperature. Reject a
        trailer that fails and tell the dock office.""",
        [("what to check in a trailer before loading", "what do i check inside the trailer before i load it")])
    seal = m.add(s, "seals", "Seals", """
        Inbound seals are checked against the paperwork before the doors open; outbound trailers are sealed
        by the loader and the seal number typed into the dispatch screen and written on the delivery note.""",
        [("where do I record the seal number", "where do i write down the seal number")])
    m.add(s, "broken-seal", "Broken or wrong seal", """
        If an inbound seal is broken, missing or has another number, do not unload: photograph it, keep the
        doors closed and call the security lead on 4100, who decides whether to receive the load.""",
        [("inbound seal broken", "the seal on the trailer is broken what do i do")],
        related=[seal])
    m.add(s, "drivers", "Drivers on site", """
        Visiting drivers wear high-visibility vests, stay in the drivers' room by the dock office while their
        truck is worked and never walk on the dock floor. Drivers' toilets and water are in the drivers'
        room.""",
        [("where do drivers wait while unloading", "where are the drivers supposed to wait while we unload"),
         ("can drivers walk on dock floor", "is the driver allowed on the dock floor")])
    m.add(s, "yard-moves", "Yard moves", """
        Only the yard jockey moves trailers between the trailer park and the doors, using the yard tractor.
        Request a move on the yard tablet; reefer trailers get priority, then outbound trailers due within the
        hour.""",
        [("who moves trailers in the yard", "who do i ask to move a trailer to the door"),
         ("trailer move priority", "which trailers get moved first in the yard")])
    m.add(s, "reefer-plug", "Reefer trailers in the yard", """
        Reefer trailers waiting in the yard are plugged into the shore power posts in row R (posts R1 to R12)
        and their temperature checked every 4 hours by the yard jockey.""",
        [("where to plug in reefer trailer", "where do we plug in the fridge trailers")],
        related=[f"{s}-doors-21-22"])
    carriers = [
        ("northline", "Northline Freight", "doors 15 and 16", "21:00"),
        ("swiftpak", "SwiftPak", "door 17", "18:30"),
        ("coastal", "Coastal Haulage", "doors 18 and 19", "02:00"),
        ("metro", "Metro Parcels", "door 20", "16:00"),
    ]
    for key, name, doors, cutoff in carriers:
        m.add(s, f"carrier-{key}", f"Outbound carrier: {name}", f"""
            {name} loads at {doors}. The last pallet must be on the dock by {cutoff}; later pallets wait for
            the next departure. Loading order follows the route sheet, last drop loaded first.""",
            [(f"{name} cut off time", f"what time is the cut off for {name.lower()}", cutoff),
             (f"which door {name}", f"which door does {name.lower()} load at", doors.split(" ", 1)[1])],
            related=[f"{s}-doors-15-20"])


def incidents(m):
    s = "incidents"
    ov = m.add(s, "overview", "Incident reporting: general rules", """
        Report every incident and near miss before the end of your shift, even when nobody was hurt. Reports
        go in the SafeLog app on the team tablets or any phone; nobody is disciplined for reporting. Make the
        area safe first, then report.""",
        [("do I have to report a near miss", "do i really need to report a near miss"),
         ("deadline to report an incident", "how long do i have to report an accident")])
    types = [
        ("near-miss", "Near miss", "an event that could have hurt someone or damaged something but did not", "NM", "your team leader", "within the shift"),
        ("first-aid", "First aid injury", "an injury treated on site by a first aider only", "FA", "your team leader and the first aider", "within the shift"),
        ("lost-time", "Lost-time injury", "an injury that stops the person working their next shift", "LT", "the duty manager on 4000 at once", "within 1 hour"),
        ("property", "Property damage", "damage to racking, doors, walls, trucks or equipment", "PD", "your team leader and maintenance on 4410", "within the shift"),
        ("collision", "Vehicle collision", "any contact between a truck and a person, another truck, racking or a structure", "VC", "the duty manager on 4000 at once", "within 1 hour"),
        ("product", "Product damage", "stock damaged in handling or storage", "PR", "inventory control", "within the shift"),
        ("dg-spill", "Dangerous goods spill", "any release of dangerous goods", "DG", "the DG coordinator on 4600 at once", "within 1 hour"),
        ("security", "Security incident", "theft, a stranger in the building, a broken seal or lock", "SI", "the security lead on 4100", "within 1 hour"),
        ("fire-alarm", "Fire alarm activation", "any alarm activation, including false alarms", "FR", "the fire warden on shift", "within the shift"),
    ]
    for key, title, what, code, notify, deadline in types:
        m.add(s, key, f"{title} reports (type {code})", f"""
            {title} (type {code} in SafeLog) means {what}. Tell {notify}, then file the report {deadline}.""",
            [(f"who to tell about {title.lower()}", f"who do i need to tell about a {title.lower()}"),
             (f"SafeLog code {title.lower()}", f"which type do i pick in safelog for a {title.lower()}", code),
             (f"deadline {title.lower()} report", f"how soon do i have to report a {title.lower()}", deadline)],
            related=[ov])
    m.add(s, "safelog", "Using SafeLog", """
        In SafeLog choose the incident type, the location (zone and aisle or door), the time, what happened
        and who was involved, then add photos. SafeLog gives a reference like IR-2024-0153; write it in the
        shift handover log.""",
        [("how to file report in SafeLog", "how do i put a report into safelog")],
        related=[ov])
    m.add(s, "paper-form", "When SafeLog is down", """
        If SafeLog is not available, fill in the paper incident form IR-1 from the rack at the team leader
        desk and give it to the shift manager, who enters it in SafeLog within 24 hours.""",
        [("SafeLog not working", "safelog is down how do i report")],
        related=[f"{s}-safelog"])
    m.add(s, "photos", "Photos and the scene", """
        Photograph the scene from 4 sides before anything is moved, unless leaving it is unsafe. Keep damaged
        racking and trucks where they are until the shift manager releases them.""",
        [("should I take photos after an accident", "do i take pictures before we clean up")],
        related=[f"{s}-safelog"])
    m.add(s, "witnesses", "Witness statements", """
        Witnesses write a short statement in SafeLog under the same reference on the same shift: what they
        saw, where they stood, and the time. Statements are read only by the investigation team.""",
        [("witness statement how", "how do i give a witness statement"),
         ("who reads witness statements", "who gets to read my witness statement")])
    m.add(s, "investigation", "Investigation and root cause", """
        Lost-time injuries, collisions and DG spills are investigated by the shift manager and the safety
        officer within 5 working days using the 5-why method; actions are tracked in SafeLog until closed.""",
        [("who investigates collisions", "who looks into it after a forklift crash"),
         ("how long does an investigation take", "how long do they take to investigate an accident")],
        related=[f"{s}-collision", f"{s}-lost-time"])
    m.add(s, "testing", "Drug and alcohol testing after incidents", """
        After any vehicle collision or lost-time injury the operator involved is tested for drugs and alcohol
        by the on-call tester within 4 hours. Refusing the test counts as a positive result.""",
        [("drug test after forklift accident", "will i get drug tested after hitting the racking")],
        related=[f"{s}-collision"])
    m.add(s, "hotline", "Anonymous reporting", """
        Unsafe behaviour or conditions can be reported anonymously on the speak-up hotline 0800 555 210 or the
        box outside the canteen. The safety officer answers every report on the notice board within 2 weeks.""",
        [("anonymous safety report", "can i report something without giving my name"),
         ("speak up hotline number", "what's the number for the speak up hotline")])
    m.add(s, "return-to-work", "Return to work after injury", """
        After a lost-time injury the person meets HR and the shift manager before the first shift back; light
        duties are agreed in writing and reviewed every week.""",
        [("coming back after injury", "what happens when i come back to work after being hurt")],
        related=[f"{s}-lost-time"])
    m.add(s, "statistics", "Monthly safety figures", """
        The safety officer posts incidents, near misses and days without a lost-time injury on the board by
        the canteen on the first Monday of each month.""",
        [("where are safety statistics posted", "where can i see the safety numbers")])


def receiving(m):
    s = "receiving"
    ov = m.add(s, "overview", "Receiving: general rules", """
        Every inbound load is checked against its advance shipping notice (ASN) in the WMS before the driver
        leaves: pallet count, SKU labels and visible damage. Goods without an ASN go to the hold bay by door
        6 until purchasing confirms them.""",
        [("goods arrived without ASN", "a delivery came in with no ASN where does it go"),
         ("what to check on inbound load", "what do i check when a load comes in")])
    m.add(s, "counting", "Counting inbound goods", """
        Count pallets against the ASN with the driver present; cartons are counted on mixed pallets only.
        Differences are recorded as over, short or damaged (OS&D) in the WMS and on the driver's paperwork
        before signing.""",
        [("count cartons or pallets at receiving", "do i count every carton or just the pallets"),
         ("where to record shortage", "where do i put it when we're short on a delivery")],
        related=[ov])
    m.add(s, "damage", "Damaged inbound goods", """
        Damaged pallets are photographed on the trailer, received into quarantine location Q1 and marked
        damaged on the delivery note. Crushed or leaking cartons are never restacked on good stock.""",
        [("damaged pallet on delivery", "a pallet came in damaged what do i do")],
        related=[ov])
    m.add(s, "quarantine", "Quarantine locations", """
        Quarantine location Q1 (next to door 6) holds damaged goods, Q2 goods with wrong labels, Q3 recalled
        stock. Nothing leaves quarantine without a release in the WMS by inventory control.""",
        [("what is Q2 for", "what goes in quarantine q two"),
         ("who releases goods from quarantine", "who can release stuff from quarantine")])
    m.add(s, "labels", "Pallet labels", """
        Every received pallet gets a Northgate licence plate label (LPN) on two adjacent sides, 400 to 800 mm
        above the floor. Reprint damaged labels at the receiving printer P-REC-2.""",
        [("where to put pallet labels", "where do the pallet labels go"),
         ("reprint pallet label", "how do i reprint a pallet label")])
    m.add(s, "chilled", "Receiving chilled goods", """
        Chilled loads are received at doors 21 and 22 only. Probe one carton per pallet: 2 to 8 degrees is
        accepted, up to 10 degrees is accepted with a note to quality, above 10 degrees the load is
        rejected.""",
        [("temperature limit chilled receiving", "what temperature do we reject chilled goods at")],
        related=[ov, "docks-doors-21-22"])
    m.add(s, "overweight", "Overweight and oversize pallets", """
        Inbound pallets over 1,200 kg or taller than 1.8 metres are not put away as they are: they are
        broken down at the rework bench by door 5 and the supplier is charged.""",
        [("pallet too heavy for racking", "what do we do with a pallet that's too heavy")])
    put = m.add(s, "putaway", "Putaway by velocity", """
        The WMS directs putaway by velocity class: A items to the pick faces in aisles A and B, B items to
        aisles C and D, C items to the high bays in the narrow aisles. Scan the location label to confirm
        every putaway.""",
        [("where do A items go", "where do the fast moving a items get put away")])
    m.add(s, "putaway-full", "Directed location is full", """
        If the directed location is full or blocked, scan the location, choose Location full on the scanner
        and the WMS gives a new location. Never put a pallet in an unassigned location.""",
        [("putaway location full", "the location the scanner gave me is full")],
        related=[put])
    m.add(s, "cross-dock", "Cross-dock pallets", """
        Pallets with a red cross-dock label are not put away: they go straight to the outbound lane of their
        store in front of doors 15 to 20 and must leave within 24 hours.""",
        [("red cross dock label meaning", "what does the red cross dock label mean")])


def picking(m):
    s = "picking"
    m.add(s, "methods", "Picking methods", """
        Single orders are picked by order on the scanner; store replenishment is picked by wave with
        tugger trains; e-commerce orders are batch-picked into totes of up to 12 orders.""",
        [("how are ecommerce orders picked", "how do we pick the online orders")])
    m.add(s, "scanning", "Scanning rules", """
        Scan the location, then every item or case; the scanner blocks a pick if the barcode does not match.
        Never scan a barcode from a sheet or another carton.""",
        [("can I scan barcode from a sheet", "can i just scan the barcode off the sheet")])
    m.add(s, "short-pick", "Short picks", """
        If the location holds fewer items than asked, pick what is there, choose Short on the scanner and
        carry on; the WMS creates a replenishment task and a recount of the location.""",
        [("not enough stock at location", "there's not enough stock in the location what do i do")])
    m.add(s, "heavy", "Heavy items", """
        Items over 23 kg are a team lift: two people, or the vacuum lifter at the end of aisle C. Items over
        50 kg are picked with a truck only.""",
        [("heavy item lifting rule", "how heavy does something have to be for a two person lift")])
    m.add(s, "replenishment", "Replenishing pick faces", """
        Reach truck drivers replenish pick faces from the reserve racking when a face drops below its
        minimum; urgent replenishments show in red on the truck tablet and come first.""",
        [("who refills pick faces", "who fills up the pick locations")])
    m.add(s, "packing-cartons", "Packing: carton sizes", """
        The pack bench screen suggests the carton: S (30 x 20 x 15 cm), M (40 x 30 x 25 cm), L (60 x 40 x
        40 cm). Use paper void fill so that nothing moves; never use bubble wrap for glass, use the cell
        dividers.""",
        [("carton sizes for packing", "what sizes are the packing boxes"),
         ("how to pack glass", "how do i pack glass items")])
    m.add(s, "priority", "Priority orders", """
        Orders marked P1 (next-day) must be packed by 15:30 for the Metro Parcels collection at 16:00. P1
        totes are red and go to pack bench 1.""",
        [("next day order cut off packing", "what time do next day orders have to be packed by")],
        related=["docks-carrier-metro"])
    m.add(s, "mispick", "Mis-picks found at packing", """
        A wrong item found at packing goes back in the tote with a Mispick slip; the packer scans Mispick on
        the bench and the order goes to the problem-solve desk by pack bench 10.""",
        [("wrong item in tote at packing", "i found the wrong item in the tote at packing")])


def cold_store(m):
    s = "cold"
    ov = m.add(s, "zones", "Cold store zones", """
        The chiller runs at 2 to 8 degrees and the freezer at minus 22 degrees (alarm at minus 18). The
        anteroom between them is held at 5 degrees and hosts charging room C.""",
        [("freezer temperature", "what temperature is the freezer"),
         ("chiller temperature range", "what's the temperature range in the chiller")])
    m.add(s, "exposure", "Time limits in the freezer", """
        Work in the freezer in blocks of at most 45 minutes, followed by a 15-minute warm break in the
        canteen or the anteroom rest area. New starters work 30-minute blocks in their first week.""",
        [("how long can I work in the freezer", "how long am i allowed to stay in the freezer"),
         ("freezer break length", "how long is the warm break after the freezer")],
        related=[ov])
    m.add(s, "ppe", "Cold store clothing", """
        Freezer work needs the insulated jacket, trousers, gloves, hat and the freezer boots from the cold
        store PPE room; the chiller needs the insulated jacket only. Wet clothing is changed before going
        back in.""",
        [("what to wear in the freezer", "what do i need to wear to go in the freezer")],
        related=[ov])
    m.add(s, "trapped", "Trapped in the freezer", """
        Every freezer door opens from inside with the orange push bar, even when locked. The red alarm button
        inside each door sounds in the dock office and security. Nobody works alone in the freezer after
        22:00.""",
        [("freezer door emergency release", "how do i get out if the freezer door is shut"),
         ("working alone in freezer at night", "can i work in the freezer on my own at night")])
    m.add(s, "doors", "Cold store doors", """
        Keep freezer doors open no longer than needed: the door alarm sounds after 2 minutes open. Report ice
        on the floor near doors at once; the ice scraper and grit are kept beside each door.""",
        [("freezer door alarm time", "how long can the freezer door stay open before the alarm")],
        related=[ov])
    m.add(s, "temperature-log", "Temperature records", """
        Temperatures are logged automatically every 10 minutes. If the freezer display reads warmer than
        minus 18 degrees for more than 30 minutes, call the engineer on call through the dock office and
        tell quality.""",
        [("freezer too warm what to do", "the freezer is reading minus fifteen what do i do")],
        related=[ov])


def inventory(m):
    s = "inventory"
    m.add(s, "cycle-counts", "Cycle counts", """
        A items are counted every month, B items every quarter and C items twice a year. Counts are blind:
        the scanner does not show the expected quantity.""",
        [("how often are A items counted", "how often do we count the a items"),
         ("are counts blind", "does the scanner show how many should be there when counting")])
    m.add(s, "variance", "Count variances", """
        A count that differs from the system by more than 2 percent or 100 euros is recounted by a second
        counter; adjustments above 500 euros need the inventory manager's approval.""",
        [("when is a recount needed", "when do we have to recount a location"),
         ("who approves big stock adjustments", "who signs off a big stock adjustment")])
    m.add(s, "stocktake", "Annual stocktake", """
        The full stocktake is held on the last weekend of the financial year. No receiving or dispatch takes
        place from Saturday 06:00 until the count is signed off.""",
        [("when is the annual stocktake", "when do we do the big stock count")])
    m.add(s, "location-audit", "Location audits", """
        Team leaders audit 20 random locations per shift for the right product, label and quantity, and fix
        mislabelled locations through inventory control.""",
        [("how many locations audited per shift", "how many locations do team leaders check each shift")])


def fire(m):
    s = "fire"
    ov = m.add(s, "alarm", "Fire alarm", """
        The fire alarm is a continuous siren with flashing red beacons. On the alarm stop work, switch off
        your truck where it stands without blocking an aisle, and walk to your assembly point by the nearest
        exit. Do not use the goods lift.""",
        [("what to do when fire alarm goes off", "what do i do when the fire alarm goes off"),
         ("leave forklift during fire alarm", "do i drive the forklift out when the fire alarm sounds")])
    points = [
        ("north", "A", "the staff car park by the main gate", "charging room A, offices, doors 1 to 8"),
        ("south", "B", "the grass area next to the bike shed", "packing, mezzanine, charging room B"),
        ("east", "C", "the truck park, row T", "dock doors 9 to 24 and the dock office"),
        ("cold", "D", "the gatehouse lay-by", "the cold store, freezer and charging room C"),
    ]
    for key, letter, where, areas in points:
        m.add(s, f"assembly-{key}", f"Assembly point {letter}", f"""
            Assembly point {letter} is at {where}. It serves {areas}. The fire warden of the area takes the
            roll call there with the visitor list.""",
            [(f"where is assembly point {letter}", f"where's assembly point {letter.lower()}"),
             (f"assembly point for {areas.split(',')[0]}", f"where do i go in a fire if i work in {areas.split(',')[0]}")],
            related=[ov])
    m.add(s, "extinguishers", "Extinguishers", """
        Red water extinguishers are for wood, paper and cardboard; black CO2 ones for electrical panels;
        cream foam ones for flammable liquids. Use one only if you are trained and the fire is smaller than a
        waste bin.""",
        [("which extinguisher for electrical fire", "which extinguisher do i use on an electrical fire")])
    m.add(s, "hot-work", "Hot work permits", """
        Welding, grinding or cutting needs a hot work permit from the maintenance manager, a fire watch during
        the work and for 60 minutes after it.""",
        [("permit for welding", "do i need a permit to do some welding"),
         ("fire watch after hot work how long", "how long is the fire watch after welding")])
    m.add(s, "exits", "Fire exits", """
        Keep 1 metre clear in front of every fire exit, extinguisher and call point. A blocked fire exit is
        cleared at once and reported as a near miss.""",
        [("how much space in front of fire exit", "how much room do i leave in front of a fire exit")])


def health(m):
    s = "health"
    m.add(s, "first-aiders", "First aiders", """
        Each shift has at least 3 first aiders, listed on the board by the canteen and wearing a green hard
        hat sticker. Call a first aider on radio channel 3 or by the team leader desk phone.""",
        [("how to call a first aider", "how do i get a first aider"),
         ("which radio channel first aid", "what radio channel is first aid on")])
    m.add(s, "kits", "First aid kits and defibrillators", """
        First aid kits are at the team leader desk, the dock office, the canteen and the cold store anteroom.
        The defibrillators (AED) are at the dock office and the main reception.""",
        [("where is the defibrillator", "where's the defib"),
         ("where are first aid kits", "where can i find a first aid kit")])
    areas = [
        ("floor", "the warehouse floor", "safety boots, high-visibility vest"),
        ("docks", "the dock apron and yard", "safety boots, high-visibility vest and gloves when handling pallets"),
        ("narrow", "the narrow aisles", "safety boots, high-visibility vest and a hard hat"),
        ("packing", "the packing area", "safety boots; cut-resistant gloves when using knives"),
        ("workshop", "the maintenance workshop", "safety boots, safety glasses and hearing protection when machines run"),
    ]
    for key, where, ppe in areas:
        m.add(s, f"ppe-{key}", f"PPE: {where}", f"""
            Minimum PPE in {where}: {ppe}. Supervisors may add PPE for a task; visitors borrow vests and
            overshoes at reception.""",
            [(f"PPE needed {where.replace('the ', '')}", f"what ppe do i need in {where}")])
    m.add(s, "noise", "Hearing protection", """
        Hearing protection is required in the sortation area while the sorter runs and in the workshop near
        the compressor; foam ear plugs are in the dispensers at both entrances.""",
        [("where do I need ear plugs", "where do i need to wear ear plugs")])
    m.add(s, "heat", "Hot weather", """
        When the temperature inside reaches 30 degrees, the shift manager adds a 10-minute cool-down break
        every 2 hours and water points are set up at the ends of aisles A and F.""",
        [("extra breaks in hot weather", "do we get extra breaks when it's really hot")])


def maintenance(m):
    s = "maintenance"
    loto = m.add(s, "lockout", "Lockout/tagout", """
        Before clearing a jam or working inside any machine (conveyor, sorter, dock leveler, compactor),
        switch it off at its isolator, fit your personal padlock and tag, and test that it will not start.
        Only the person who fitted a lock removes it.""",
        [("lockout procedure conveyor", "how do i lock out the conveyor before clearing a jam"),
         ("can someone else remove my lock", "can somebody else take my padlock off")])
    m.add(s, "lost-lock", "Removing an abandoned lock", """
        A lock whose owner has left site is removed only by the maintenance manager after phoning the owner
        and checking the machine, and is recorded in the lockout log.""",
        [("lock left on by someone who went home", "someone left their lock on and went home")],
        related=[loto])
    m.add(s, "conveyor-estop", "Conveyor emergency stops", """
        Emergency stop buttons are every 10 metres along the conveyor and on both sides of the sorter. After
        an e-stop the line restarts only with the team leader's key once the cause is cleared.""",
        [("how to restart conveyor after e-stop", "how do we restart the conveyor after someone hit the e stop")],
        related=[loto])
    m.add(s, "requests", "Maintenance requests", """
        Non-urgent repairs are requested in the maintenance app; urgent ones (anything unsafe) by phone on
        4410, day or night. Maintenance answers urgent calls within 30 minutes.""",
        [("maintenance phone number", "what's the number for maintenance"),
         ("how fast do maintenance respond", "how quick does maintenance come for an urgent job")])
    rack = m.add(s, "racking-inspection", "Racking inspections", """
        Team leaders walk the racking every week; a certified inspector inspects all racking once a year.
        Damage is classed green (record only), amber (repair within 4 weeks, no more loads) or red (unload at
        once and close the bay).""",
        [("how often racking inspection", "how often is the racking inspected"),
         ("amber racking damage meaning", "what does amber mean for racking damage")])
    m.add(s, "racking-hit", "Hitting the racking", """
        If you hit the racking, stop, lower any load, keep people out of the bay and call your team leader;
        it is a property damage report. Never straighten or reload damaged racking yourself.""",
        [("I hit the racking with forklift", "i just clipped the racking with the forklift what now")],
        related=[rack, "incidents-property"])
    m.add(s, "rack-loads", "Beam loads", """
        Each bay's load sign shows the maximum per beam level and per bay; the usual beam limit is 2,000 kg
        (two pallets of 1,000 kg). Never put a third pallet on a beam made for two.""",
        [("max weight per beam", "how much weight can go on one beam level")],
        related=[rack])


def site(m):
    s = "site"
    m.add(s, "visitors", "Visitors", """
        Visitors sign in at main reception, get a red visitor badge and are escorted at all times on the
        warehouse floor. Contractors get a yellow badge after the site induction video.""",
        [("visitor badge colour", "what colour badge do visitors get"),
         ("do contractors need induction", "do contractors have to do the induction")])
    m.add(s, "handover", "Shift handover", """
        Team leaders hand over at the team leader desk 15 minutes before the shift ends: open incidents,
        trucks out of service, late trailers and urgent orders, written in the handover log.""",
        [("when is shift handover", "when do team leaders do the shift handover"),
         ("what goes in the handover log", "what do i write in the handover log")])
    m.add(s, "housekeeping", "Housekeeping", """
        Stretch wrap and cardboard go in the balers by door 23 during the shift, never left in aisles.
        Broken pallets go to the pallet cage in the yard. Every aisle is swept at the end of each shift.""",
        [("where does cardboard go", "where do i put the cardboard"),
         ("what to do with broken pallets", "where do the broken pallets go")])
    m.add(s, "canteen", "Breaks", """
        Breaks are 30 minutes on an 8-hour shift, taken in two waves called on the radio. Food and drink stay
        in the canteen and break rooms; only water in closed bottles on the floor.""",
        [("how long is the break", "how long is our break"),
         ("can I drink on the warehouse floor", "am i allowed to drink on the floor")])
    m.add(s, "radios", "Radio channels", """
        Channel 1 is the dock office, channel 2 team leaders, channel 3 first aid and emergencies, channel 4
        the yard. Say your name and location first; keep channel 3 clear for emergencies.""",
        [("radio channel for the yard", "what channel is the yard on"),
         ("radio channel dock office", "which channel do i use for the dock office")])
    m.add(s, "lost-property", "Lost property and phones", """
        Personal phones stay in lockers on the warehouse floor except for team leaders. Lost property goes to
        main reception and is kept for 30 days.""",
        [("can I have my phone on the floor", "can i keep my phone on me on the warehouse floor")])


def aisles(m):
    s = "aisles"
    ov = m.add(s, "directory", "Aisle directory", """
        Wide aisles A to F run north to south and hold pick faces at floor and first beam level; narrow aisles
        are rows 20 to 45 in the west half and hold reserve pallets up to 12 metres. Aisle signs hang at both
        ends; location codes read aisle, bay, level, position (C-14-2-B).""",
        [("how to read a location code", "how do i read the location codes"),
         ("how high do the narrow aisles go", "how high is the racking in the narrow aisles")])
    wide = [
        ("a", "A", "fast-moving beverages and snacks (velocity class A)", "the tugger train stop at its south end"),
        ("b", "B", "fast-moving household goods (velocity class A)", "the vacuum lifter bay at B-30"),
        ("c", "C", "health and beauty (velocity class B)", "the vacuum lifter at its north end for heavy cases"),
        ("d", "D", "small appliances (velocity class B)", "caged high-value bays D-40 to D-48 that need a team leader's key"),
        ("e", "E", "garden and seasonal goods", "the seasonal overflow area at its north end"),
        ("f", "F", "pet food and bulky items", "a DG spill kit and a water point at its south end"),
    ]
    for key, letter, what, note in wide:
        m.add(s, f"aisle-{key}", f"Aisle {letter}", f"""
            Aisle {letter} holds {what}. It has {note}.""",
            [(f"what is in aisle {letter}", f"what's kept in aisle {letter.lower()}"),
             (f"aisle {letter} special areas", f"is there anything special in aisle {letter.lower()}")],
            related=[ov])
    narrow = [
        ("20-25", 20, 25, "bulk beverages", "wire guidance"),
        ("26-31", 26, 31, "household reserve stock", "wire guidance"),
        ("32-37", 32, 37, "appliances reserve stock", "rail guidance"),
        ("38-41", 38, 41, "seasonal reserve stock", "rail guidance"),
        ("42-45", 42, 45, "slow movers and promotional stock", "rail guidance; rows 44 and 45 have mesh backs for small cartons"),
    ]
    for key, lo, hi, what, guide in narrow:
        m.add(s, f"rows-{key}", f"Narrow aisle rows {lo} to {hi}", f"""
            Narrow aisle rows {lo} to {hi} hold {what}. Trucks enter under {guide}; only level 4 operators
            work these rows above 10 metres.""",
            [(f"what is stored rows {lo}-{hi}", f"what do we keep in rows {say(lo)} to {say(hi)}"),
             (f"guidance type rows {lo}-{hi}", f"is it wire or rail guidance in rows {say(lo)} to {say(hi)}")],
            related=[ov, "forklift-speed-narrow-aisles"])


def shifts(m):
    s = "shifts"
    pattern = [
        ("early", "Early shift", "06:00 to 14:00", "breaks at 09:00 and 11:30"),
        ("late", "Late shift", "14:00 to 22:00", "breaks at 17:00 and 19:30"),
        ("night", "Night shift", "22:00 to 06:00", "breaks at 01:00 and 03:30; battery watering on Monday nights"),
        ("weekend", "Weekend shift", "Saturday and Sunday 07:00 to 19:00", "breaks every 3 hours, agreed by the team leader"),
    ]
    for key, title, hours, breaks in pattern:
        m.add(s, key, title, f"""
            The {title.lower()} works {hours}, with {breaks}. Clock in no earlier than 10 minutes before the
            start at the clocks by the staff entrance.""",
            [(f"{title.lower()} hours", f"what are the hours for the {title.lower()}"),
             (f"{title.lower()} break times", f"when are the breaks on the {title.lower()}")])
    m.add(s, "sickness", "Reporting sickness", """
        If you are sick, phone the absence line 0800 555 300 at least 2 hours before your shift starts, every
        day of absence unless you have a doctor's note. A text to your team leader is not enough.""",
        [("how to call in sick", "how do i call in sick"),
         ("can I text my team leader I'm sick", "can i just text my team leader that i'm sick")])
    m.add(s, "holidays", "Holiday requests", """
        Request holidays in the HR app at least 2 weeks ahead; December and the stocktake weekend are
        blocked. Requests are approved in order of submission, at most 3 people per team per day.""",
        [("how far ahead to request holiday", "how early do i need to ask for holiday"),
         ("can I take holiday in December", "can i book holiday in december")])
    m.add(s, "overtime", "Overtime", """
        Overtime is offered on the board by the canteen by Thursday for the next week and is paid at 1.5
        times, 2 times on Sundays. Nobody works more than 12 hours in a day including overtime.""",
        [("overtime pay rate Sunday", "how much is overtime on a sunday"),
         ("max hours per day", "what's the most hours i can work in one day")])
    m.add(s, "clocking", "Missed clock-in", """
        If you forget to clock in or out, tell your team leader the same day; they correct it in the time
        system. Three missed clockings in a month go to HR.""",
        [("forgot to clock in", "i forgot to clock in this morning what do i do")])


def devices(m):
    s = "devices"
    m.add(s, "scanner-charging", "Scanners: charging and swaps", """
        Scanners charge in the racks at the team leader desk. Take a scanner with a green light only; swap a
        scanner below 15 percent at any rack. Every scanner is signed out against your badge.""",
        [("where to charge scanner", "where do i charge my scanner"),
         ("scanner battery low", "my scanner battery is nearly dead")])
    m.add(s, "scanner-reboot", "Scanners: frozen screen", """
        A frozen scanner is restarted by holding the power button for 10 seconds. If it freezes again, hand
        it to the team leader desk with a note of the last task; the task returns to the queue automatically
        after 5 minutes.""",
        [("scanner frozen", "my scanner screen is frozen what do i do")])
    codes = [
        ("s-101", "S101", "location not found", "scan the location label again or type the code"),
        ("s-102", "S102", "item does not belong in this location", "check the location; if right, call inventory control"),
        ("s-103", "S103", "task already completed by someone else", "go back to the task list"),
        ("s-104", "S104", "no network", "walk to the end of the aisle for Wi-Fi and retry"),
    ]
    for key, code, meaning, action in codes:
        m.add(s, f"error-{key}", f"Scanner message {code}", f"""
            Scanner message {code} means {meaning}. What to do: {action}.""",
            [(f"scanner {code}", f"what does {code[0]} {' '.join(say(int(d)) for d in code[1:])} mean on the scanner")])
    m.add(s, "printers", "Label printers", """
        Label printers are P-REC-1 and P-REC-2 at receiving, P-PACK-1 to P-PACK-10 at the pack benches and
        P-DISP at dispatch. A printer that jams: open the cover, remove the torn label, close and press feed
        twice.""",
        [("label printer jammed", "the label printer is jammed"),
         ("which printer for dispatch labels", "which printer prints the dispatch labels")])
    m.add(s, "login", "WMS login problems", """
        WMS passwords expire every 90 days. A locked account is unlocked by the team leader; a forgotten
        password is reset by the IT service desk on 4700, available 24 hours.""",
        [("WMS account locked", "i'm locked out of the wms"),
         ("IT help desk number", "what's the number for the it help desk")])
    m.add(s, "tablets", "Truck tablets", """
        Truck tablets are fixed to the truck and stay with it. They show tasks, the pre-shift check and fault
        reports. A cracked tablet screen is reported as property damage.""",
        [("forklift tablet screen cracked", "the screen on the truck tablet is cracked")],
        related=["forklift-pre-shift"])


def returns(m):
    s = "returns"
    ov = m.add(s, "overview", "Customer returns: overview", """
        Customer returns arrive at door 23 and are processed at the returns benches within 48 hours. Each
        return is scanned against its return authorisation (RA) number; parcels without an RA go to the
        returns hold shelf.""",
        [("how fast are returns processed", "how quickly do we have to process returns"),
         ("return with no RA number", "a return came in without an ra number")])
    grades = [
        ("grade-a", "A", "unopened and undamaged", "back to stock in its pick face"),
        ("grade-b", "B", "opened but complete and working", "repackaged and sold as open box from aisle E"),
        ("grade-c", "C", "damaged, incomplete or faulty", "sent to the refurbisher on Tuesdays or scrapped"),
    ]
    for key, g, what, where in grades:
        m.add(s, key, f"Return grade {g}", f"""
            Grade {g} returns are {what}. They go {where}.""",
            [(f"return grade {g} meaning", f"what does grade {g.lower()} mean for a return"),
             (f"where do grade {g} returns go", f"where do the grade {g.lower()} returns go")],
            related=[ov])
    m.add(s, "rtv", "Return to vendor", """
        Faulty goods under supplier warranty are collected on a return-to-vendor (RTV) pallet per supplier
        in bay R-5 and shipped when the pallet is full or monthly, whichever comes first.""",
        [("where do RTV pallets go", "where do we build the return to vendor pallets")],
        related=[ov])
    m.add(s, "food-returns", "Returned food", """
        Returned food and drink is never restocked, whatever its condition; it is scanned and put in the
        food waste bin at door 23.""",
        [("can returned food go back to stock", "can we put returned food back on the shelf")],
        related=[ov])


def quality(m):
    s = "quality"
    m.add(s, "fefo", "First expired, first out", """
        Dated products are picked first expired, first out (FEFO); the WMS directs it. Products with less
        than 30 days of shelf life are not sent to stores and are reported to quality.""",
        [("what is FEFO", "what does fefo mean"),
         ("short dated stock", "what do we do with stock that's close to its date")])
    m.add(s, "recall", "Product recalls", """
        A recall is started by quality: the WMS blocks the lot, team leaders move all recalled stock to
        quarantine Q3 within 4 hours and count it. Never ship or destroy recalled stock without quality's
        instruction.""",
        [("product recall what to do", "what do we do when there's a product recall"),
         ("where does recalled stock go", "where do we put recalled stock")],
        related=["receiving-quarantine"])
    m.add(s, "lots", "Lot numbers", """
        Lot numbers are captured at receiving for food, health products and DG; scan the lot barcode or type
        it exactly as printed. A missing lot number puts the pallet in quarantine Q2.""",
        [("which products need lot numbers", "which products do we record lot numbers for")],
        related=["receiving-quarantine"])
    m.add(s, "pests", "Pest sightings", """
        Report any sign of pests (droppings, gnawed packaging, insects) to quality on 4800 at once and do not
        move the affected stock. Bait stations are checked every 2 weeks by the contractor.""",
        [("saw a mouse in the warehouse", "i saw a mouse in aisle b who do i tell")])
    m.add(s, "glass", "Glass and brittle plastic", """
        Breakage of glass or brittle plastic in the food aisles is reported to quality; the area is cordoned
        off, cleaned with the red glass kit and the stock within 2 metres is checked.""",
        [("broken glass in food aisle", "a glass bottle broke in the drinks aisle what do i do")])


def security(m):
    s = "security"
    m.add(s, "badges", "Badges and access", """
        Staff badges open the staff entrance and the doors of your area only. Never let anyone follow you
        through a door (tailgating); report a lost badge to security on 4100 at once so it can be blocked.""",
        [("lost my badge", "i lost my badge who do i tell"),
         ("security phone number", "what's the number for security")])
    m.add(s, "searches", "Bag checks", """
        Bags brought on site are kept in lockers; security may check bags at the exit at random. Staff
        purchases are collected from the staff shop, never taken from stock.""",
        [("can I take my bag on the floor", "can i bring my bag onto the warehouse floor")])
    m.add(s, "high-value", "High-value cage", """
        High-value goods are kept in the caged bays D-40 to D-48. The cage key is signed out from the team
        leader desk; two people are present whenever the cage is open.""",
        [("high value cage key", "where do i get the key for the high value cage")],
        related=["aisles-aisle-d"])
    m.add(s, "strangers", "Unknown people on site", """
        Politely ask anyone without a badge who they are and who they are visiting; if in doubt, call
        security on 4100 and keep them in sight. Do not physically stop anyone.""",
        [("someone without a badge in the warehouse", "there's someone without a badge walking around")])


def yard(m):
    s = "yard"
    m.add(s, "rules", "Yard rules", """
        The yard speed limit is 15 km/h for all vehicles. Pedestrians use the marked crossings only and wear
        high-visibility vests; nobody walks between a trailer and a dock door.""",
        [("yard speed limit", "what's the speed limit in the yard for trucks"),
         ("walking in the yard rules", "where can i walk in the yard")],
        related=["forklift-speed-yard"])
    m.add(s, "gatehouse", "Gatehouse", """
        All trucks check in at the gatehouse at gate 1; the gatehouse gives the driver the parking row and
        the visitor rules leaflet. Gate 2 is for staff cars and the LPG delivery only.""",
        [("where do trucks check in", "where do lorries check in when they arrive"),
         ("what is gate 2 for", "what's gate two used for")])
    m.add(s, "pallet-cage", "Pallet cage and empties", """
        Empty pallets are sorted in the yard pallet cage by type: blue CHEP pallets, white Euro pallets and
        broken pallets for collection. Never stack empties higher than 20.""",
        [("where do empty CHEP pallets go", "where do the blue chep pallets go"),
         ("how high can I stack empty pallets", "how high am i allowed to stack empty pallets")])
    m.add(s, "winter", "Ice and snow", """
        In ice or snow the yard is gritted before 05:00 by the site services team; trucks drive at 8 km/h
        in the yard and the dock apron is checked for ice every 2 hours.""",
        [("yard speed in snow", "how fast can we drive in the yard when it snows")],
        related=["forklift-speed-yard"])


def build_manual():
    m = Manual()
    for section in (charging, forklift, hazmat, docks, incidents, receiving, picking, cold_store, inventory,
                    fire, health, maintenance, site, aisles, shifts, devices, returns, quality, security, yard):
        section(m)
    return m.chunks, m.specs
